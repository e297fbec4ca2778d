// The type-check floor for `npm run bench`: one file that only imports @pulumi/eks, which pulls in
// every declaration of @pulumi/aws and @pulumi/kubernetes. Nothing the program does can cost less.
import * as eks from "@pulumi/eks";

export const floor = eks.Cluster;
