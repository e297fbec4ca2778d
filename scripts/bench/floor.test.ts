// The bare floor for `npm run bench`: mocha starting, ts-node registered, and the Pulumi SDKs the
// program uses loaded, with one trivial test. The unit suite is measured against this.
import * as assert from "assert";
import "@pulumi/pulumi";
import "@pulumi/aws";
import "@pulumi/awsx/ec2";
import "@pulumi/eks";
import "@pulumi/kubernetes";

describe("floor", () => {
    it("runs one trivial test", () => assert.strictEqual(1 + 1, 2));
});
