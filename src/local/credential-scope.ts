/**
 * Who signed a request, and for what: the SigV4 credential of the Authorization header (or of a presigned URL's
 * X-Amz-Credential), `ACCESS_KEY/DATE/REGION/SERVICE/aws4_request`. The AWS port routes S3 and IAM by its
 * service, as AWS's endpoints are per service, and STS reads the caller from its access key. Signatures are not
 * verified here (see aws-endpoint.ts).
 */
import type { IncomingMessage } from 'node:http';

export interface CredentialScope {
  accessKeyId: string;
  region: string;
  service: string;
}

const CREDENTIAL = /^([^/\s]+)\/\d{8}\/([^/\s]+)\/([^/\s]+)\/aws4_request$/;

export function credentialScope(req: IncomingMessage): CredentialScope | undefined {
  let credential = /Credential=([^,\s]+)/.exec(req.headers.authorization ?? '')?.[1];
  if (credential === undefined) {
    const query = (req.url ?? '').split('?')[1];
    credential = (query ? new URLSearchParams(query).get('X-Amz-Credential') : null) ?? undefined;
  }
  const m = credential === undefined ? null : CREDENTIAL.exec(credential);
  return m ? { accessKeyId: m[1]!, region: m[2]!, service: m[3]! } : undefined;
}
