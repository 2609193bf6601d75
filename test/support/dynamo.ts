/** A real DynamoDB (dynalite) on a loopback port chosen at run time, with the gateway's tables. */
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { auditTable, createTable, jobsTable } from '../../src/adapters/dynamodb/tables';
import { clientConfig } from '../../src/adapters/clients';

export interface TestDynamo {
  client: DynamoDBClient;
  endpoint: string;
  jobsTable: string;
  auditTable: string;
  stop(): Promise<void>;
}

let tableCounter = 0;

export async function startDynamo(): Promise<TestDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient(clientConfig({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
  const suffix = `${process.pid}-${++tableCounter}`;
  const names = { jobsTable: `jobs-${suffix}`, auditTable: `audit-${suffix}` };
  await createTable(client, jobsTable(names.jobsTable));
  await createTable(client, auditTable(names.auditTable));
  return {
    client,
    endpoint,
    ...names,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** A command as a test looks at it: its class name and input. */
export interface SeenCommand {
  constructor: { name: string };
  input: { TableName?: string; Key?: Record<string, { S?: string }>; KeyConditionExpression?: string };
}

/** The client, with `see` told of each command it sends (before it is sent); the client itself is left as it was. */
export function observeSends(db: DynamoDBClient, see: (command: SeenCommand) => void): DynamoDBClient {
  return new Proxy(db, {
    get: (target, name, receiver): unknown =>
      name === 'send'
        ? (command: SeenCommand) => {
            see(command);
            return target.send(command as never);
          }
        : Reflect.get(target, name, receiver),
  });
}
