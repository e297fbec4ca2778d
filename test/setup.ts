// Loaded once by mocha (--require in .mocharc.json), before any test file.
// The harness installs a fresh recording mock monitor for every run; this baseline makes sure that
// nothing ever reaches for a real engine, even a test that builds a resource outside a run.
import * as pulumi from "@pulumi/pulumi";
import { mocksFor } from "../harness/mocks";

pulumi.runtime.setMocks(mocksFor("test"), "checkout-platform", "unit");
