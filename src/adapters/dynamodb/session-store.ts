/**
 * Interactive sessions in DynamoDB, in the jobs table (tables.ts SESSION_INDEX says why): one item per session, keyed
 * by its id in the table's key attribute, written once (a conditional put, never overwritten), with the head-changes
 * index's attributes so that the audit digester records its chain's head as a job's. Listed by owner through the
 * sessions index (one Query per page, never a scan).
 */
import { GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IntegrityError, ValidationError } from '../../errors';
import { SESSION_ID } from '../../identifiers';
import type { Session } from '../../sessions/model';
import type { SessionPage, SessionRepository } from '../../sessions/ports';
import { awsCall, isConditionalCheckFailed, translateAwsError } from '../aws-errors';
import { HEAD_CHANGES_INDEX, headChangesKey, SESSION_INDEX } from './tables';

/** The table's key attribute (the jobs table's). */
const KEY = 'jobId';
const SESSION_KEY = new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z#(${SESSION_ID.source.slice(1, -1)})$`);

export class DynamoSessionStore implements SessionRepository {
  constructor(
    private readonly db: DynamoDBClient,
    /** The jobs table. */
    private readonly table: string,
  ) {}

  async create(session: Session): Promise<boolean> {
    const item = { ...session, [KEY]: session.sessionId, [HEAD_CHANGES_INDEX.sort]: session.createdAt, [HEAD_CHANGES_INDEX.partition]: headChangesKey(session.sessionId, session.createdAt) };
    try {
      await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall(item, { removeUndefinedValues: true }), ConditionExpression: `attribute_not_exists(${KEY})` }));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw translateAwsError('DynamoDB PutItem', error);
    }
  }

  async get(sessionId: string): Promise<Session | undefined> {
    const out = await awsCall('DynamoDB GetItem', () => this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ [KEY]: sessionId }), ConsistentRead: true })));
    return out.Item ? toSession(out.Item) : undefined;
  }

  async listByOwner(principalArn: string, limit: number, after?: string): Promise<SessionPage> {
    const out = await awsCall('DynamoDB Query', () => this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: SESSION_INDEX.name,
        KeyConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': SESSION_INDEX.partition },
        ExpressionAttributeValues: marshall({ ':owner': principalArn }),
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: startKey(principalArn, after),
      }),
    ));
    const sessions = (out.Items ?? []).map(toSession).filter((s): s is Session => s !== undefined && s.principalArn === principalArn);
    const next = out.LastEvaluatedKey ? (unmarshall(out.LastEvaluatedKey) as { sessionKey?: unknown }).sessionKey : undefined;
    if (out.LastEvaluatedKey && typeof next !== 'string') throw new IntegrityError('DynamoDB answered a LastEvaluatedKey without a sessionKey');
    return { sessions, ...(typeof next === 'string' ? { next } : {}) };
  }
}

/** The session an item holds, without the table's own attributes; undefined for an item that is no session (a job). */
function toSession(item: Record<string, AttributeValue>): Session | undefined {
  const { [KEY]: _key, [HEAD_CHANGES_INDEX.sort]: _updated, [HEAD_CHANGES_INDEX.partition]: _hour, ...session } = unmarshall(item);
  return typeof session.sessionKey === 'string' && typeof session.sessionId === 'string' ? (session as Session) : undefined;
}

/** The ExclusiveStartKey of a position (a sessionKey) in the owner's partition: the table key and the index key. */
function startKey(principalArn: string, after: string | undefined): Record<string, AttributeValue> | undefined {
  if (after === undefined) return undefined;
  const sessionId = SESSION_KEY.exec(after)?.[1];
  if (!sessionId) throw ValidationError.single('nextToken', 'is not a position in a session listing');
  return marshall({ [KEY]: sessionId, [SESSION_INDEX.partition]: principalArn, [SESSION_INDEX.sort]: after });
}
