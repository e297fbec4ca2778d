#!/usr/bin/env bash
# Promotes the checkout-service image a stack names into that stack's ECR repository: the manifest
# dev's repository holds (pushed there by image.yml only after the Trivy scan passed) is copied
# byte for byte, so the digest that reaches prod is the one built and scanned for dev. Nothing is
# rebuilt. Run by deploy.yml before `pulumi up` on prod.
#
#   .ci/promote-image.sh <checkout.imageTag of the stack: a tag, or sha256:<64 hex>>
#
# Environment: SOURCE_REPOSITORY_URL (dev's ecrRepositoryUrl), TARGET_REPOSITORY_URL (the stack's),
# and `crane` logged in to both registries. A tag keeps its name; a digest is stored under the tag
# sha256-<hex> (ECR's lifecycle policy expires untagged images). ECR tags are immutable, so a tag
# that already exists in the target must already be that digest: anything else fails, as does a
# copy whose result is not the source digest. Prints digest=… and tag=… (also to $GITHUB_OUTPUT).
set -euo pipefail

die() {
    echo "promote-image: $*" >&2
    exit 1
}

ref="${1:-}"
[[ -n "$ref" ]] || die "usage: promote-image.sh <tag or sha256:digest> (the stack's checkout.imageTag)"
source="${SOURCE_REPOSITORY_URL:-}"
target="${TARGET_REPOSITORY_URL:-}"
[[ -n "$source" ]] || die "SOURCE_REPOSITORY_URL is not set (dev's ecrRepositoryUrl, where image.yml pushes)"
[[ -n "$target" ]] || die "TARGET_REPOSITORY_URL is not set (the stack's ecrRepositoryUrl)"
[[ "$source" != "$target" ]] || die "source and target are the same repository ($source)"

if [[ "$ref" =~ ^sha256:[0-9a-f]{64}$ ]]; then
    digest="$ref"
    tag="sha256-${ref#sha256:}"
    found="$(crane digest "$source@$digest" 2>/dev/null)" ||
        die "$source has no image $digest: only what image.yml built, scanned and pushed for dev can be promoted"
    [[ "$found" == "$digest" ]] || die "$source@$digest resolved to $found"
elif [[ "$ref" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ && "${ref,,}" != "latest" ]]; then
    tag="$ref"
    digest="$(crane digest "$source:$tag" 2>/dev/null)" ||
        die "$source has no tag $tag: only what image.yml built, scanned and pushed for dev can be promoted"
else
    die "'$ref' is neither a pinned tag nor sha256:<64 hex>"
fi

if existing="$(crane digest "$target:$tag" 2>/dev/null)"; then
    [[ "$existing" == "$digest" ]] ||
        die "$target:$tag is already $existing, but dev's image is $digest; tags are immutable, refusing to promote"
    echo "$target:$tag is already $digest; nothing to copy"
else
    crane copy "$source@$digest" "$target:$tag"
fi

promoted="$(crane digest "$target:$tag")"
[[ "$promoted" == "$digest" ]] || die "$target:$tag is $promoted after the copy, not $digest"

echo "digest=$digest"
echo "tag=$tag"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf 'digest=%s\ntag=%s\n' "$digest" "$tag" >>"$GITHUB_OUTPUT"
fi
