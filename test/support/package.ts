/**
 * Reading a package back, for the package tests and bench/bundles.ts: the zips osls wrote, and a function's
 * handler and environment as Lambda would resolve them from the template, so a bundle can run on this machine.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { CfnTemplate } from '../../scripts/cloudformation';
import type { FunctionName, PackageResult } from '../../scripts/package';

/** The files of a zip (as osls/serverless-esbuild write them: no zip64, stored or deflated), by name. */
export function readZip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error(`${file}: not a zip file`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + compressed);
    if (!name.endsWith('/')) {
      if (method !== 0 && method !== 8) throw new Error(`${file}: ${name}: unsupported compression method ${method}`);
      files.set(name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

/** Unzips a function's zip into dir (the stand-in for /var/task). */
export function extractZip(file: string, dir: string): void {
  for (const [name, data] of readZip(file)) {
    const target = resolve(dir, name);
    if (!target.startsWith(resolve(dir) + sep)) throw new Error(`${file}: ${name} is outside the zip's root`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, data);
  }
}

export interface FunctionInfo {
  logicalId: string;
  /** e.g. src/handlers/api.js, inside the zip. */
  bundle: string;
  /** The handler's export name. */
  exportName: string;
  properties: Record<string, unknown>;
}

/** The Lambda function osls compiled for a serverless.yml function (logical id `<Name>LambdaFunction`). */
export function functionInfo(template: CfnTemplate, name: FunctionName): FunctionInfo {
  const logicalId = `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
  const fn = template.Resources[logicalId];
  if (fn?.Type !== 'AWS::Lambda::Function' || !fn.Properties) throw new Error(`no Lambda function ${logicalId} in the template`);
  const handler = String(fn.Properties.Handler);
  const dot = handler.lastIndexOf('.');
  return { logicalId, bundle: `${handler.slice(0, dot)}.js`, exportName: handler.slice(dot + 1), properties: fn.Properties };
}

/**
 * A function's environment as Lambda would give it, for running a bundle on this machine: the template's
 * variables with their CloudFormation references resolved as AWS would (table and bucket names, role, state
 * machine and KMS key ARNs), /var/task replaced by taskRoot, and AWS_REGION.
 */
export function functionEnvironment(result: Pick<PackageResult, 'template' | 'params'>, name: FunctionName, taskRoot: string): Record<string, string> {
  const { template, params } = result;
  const variables = ((functionInfo(template, name).properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const props = (id: string): Record<string, unknown> => template.Resources[id]?.Properties ?? {};
  const resolveValue = (value: unknown): string => {
    if (typeof value === 'string') return value.startsWith('/var/task/') ? join(taskRoot, value.slice('/var/task/'.length)) : value;
    const ref = (value as { Ref?: string }).Ref;
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    const type = template.Resources[ref ?? getAtt?.[0] ?? '']?.Type;
    if (ref && type === 'AWS::DynamoDB::Table') return String(props(ref).TableName);
    // A generated bucket name is CloudFormation's choice: any valid one stands in for it.
    if (ref && type === 'AWS::S3::Bucket') return `${ref.toLowerCase()}-0123456789ab`;
    if (ref && type === 'AWS::StepFunctions::StateMachine') {
      return `arn:${params.partition}:states:${params.region}:${params.account}:stateMachine:${String(props(ref).StateMachineName)}`;
    }
    if (getAtt && type === 'AWS::IAM::Role' && getAtt[1] === 'Arn') return `arn:${params.partition}:iam::${params.account}:role/${String(props(getAtt[0]).RoleName)}`;
    // A key's id is KMS's choice: any well-formed one stands in for it.
    if (getAtt && type === 'AWS::KMS::Key' && getAtt[1] === 'Arn') return `arn:${params.partition}:kms:${params.region}:${params.account}:key/00000000-0000-4000-8000-000000000000`;
    // Fn::Join of what resolves (pseudo parameters as AWS would give them; a REST API's id is API Gateway's choice).
    const joined = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (joined) return joined[1].map((part) => resolveValue(part)).join(joined[0]);
    if (ref === 'AWS::Region') return params.region;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (ref === 'AWS::AccountId') return params.account;
    if (ref === 'AWS::Partition') return params.partition;
    if (ref && type === 'AWS::ApiGateway::RestApi') return 'a1b2c3d4e5';
    throw new Error(`${name}: cannot resolve ${JSON.stringify(value)} for a local run`);
  };
  return { AWS_REGION: params.region, ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolveValue(v)])) };
}
