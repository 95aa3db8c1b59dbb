/**
 * The Terraform backend of a cluster stack, from the spec's `backend`.
 */
import { CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TaggedCloudWorkspaces, TerraformStack } from "cdktf";
import { LOCAL_STATE_DIR_FROM_STACK } from "../spec/defaults";
import { BackendSpec } from "../spec/types";

/**
 * Adds the backend to a stack. The local state path is relative to the stack directory
 * (`<output>/stacks/NAME/`), leading back to the project directory: state is data and lives outside
 * the output directory, and the synthesized file carries no absolute path.
 */
export function addBackend(stack: TerraformStack, backend: BackendSpec): void {
  switch (backend.type) {
    case "local":
      new LocalBackend(stack, { path: `${LOCAL_STATE_DIR_FROM_STACK}/${backend.path}` });
      return;
    case "s3": {
      const s3 = new S3Backend(stack, {
        bucket: backend.bucket,
        key: backend.key,
        region: backend.region,
        encrypt: true,
        kmsKeyId: backend.kmsKeyId,
        dynamodbTable: backend.dynamodbTable,
      });
      if (backend.useLockfile) {
        // S3-native state locking (Terraform >= 1.10); cdktf 0.21's binding predates the argument.
        s3.addOverride("use_lockfile", true);
      }
      return;
    }
    case "cloud":
      new CloudBackend(stack, {
        organization: backend.organization,
        hostname: backend.hostname,
        workspaces: backend.workspace
          ? new NamedCloudWorkspace(backend.workspace, backend.project)
          : new TaggedCloudWorkspaces([...(backend.workspaceTags ?? [])], backend.project),
      });
      return;
  }
}
