/**
 * The model check itself (test/support/aws-models.ts), on a small model of its own so that it runs everywhere:
 * each kind of response AWS would not send is named, and one AWS would send passes.
 */
import { checkResponse, restOperation, type ServiceModel } from '../support/aws-models';

const json: ServiceModel = {
  service: 'none',
  metadata: { protocol: 'json', targetPrefix: 'Demo', endpointPrefix: 'demo', serviceId: 'Demo' },
  operations: { Get: { name: 'Get', http: { method: 'POST', requestUri: '/' }, output: { shape: 'Out' }, errors: [{ shape: 'NotFound' }] } },
  shapes: {
    Out: { type: 'structure', required: ['Id'], members: { Id: { shape: 'S' }, State: { shape: 'State' }, Count: { shape: 'I' }, When: { shape: 'T' }, Tags: { shape: 'L' }, Data: { shape: 'B' }, On: { shape: 'Bool' }, Attrs: { shape: 'M' } } },
    S: { type: 'string' },
    State: { type: 'string', enum: ['ON', 'OFF'] },
    I: { type: 'integer' },
    T: { type: 'timestamp' },
    L: { type: 'list', member: { shape: 'S' } },
    M: { type: 'map', key: { shape: 'S' }, value: { shape: 'I' } },
    B: { type: 'blob' },
    Bool: { type: 'boolean' },
    NotFound: { type: 'structure', members: { Message: { shape: 'S' } }, exception: true },
  },
};
const ok = { 'x-amzn-requestid': 'r' };
const answer = (body: unknown, status = 200, headers: Record<string, string> = ok) => checkResponse(json, 'Get', { status, headers, body: JSON.stringify(body) });

describe('the model check', () => {
  it('passes what AWS could send', () => {
    expect(answer({ Id: 'a', State: 'ON', Count: 3, When: 1.7e9, Tags: ['x'], Data: 'aGk=', On: true, Attrs: { a: 1 } })).toEqual([]);
    expect(answer({ __type: 'NotFound', message: 'no' }, 400)).toEqual([]);
    expect(answer({ __type: 'ThrottlingException', message: 'slow down' }, 400)).toEqual([]);
  });

  it('names a member outside the model, a missing required one, a wrong type, an enum value, a 1970 date, a null', () => {
    expect(answer({ Id: 'a', Extra: 1 })).toEqual(['Demo Get 200: Extra: not a member of the model\'s Out']);
    expect(answer({})).toEqual(['Demo Get 200: Id: required, missing']);
    expect(answer({ Id: 'a', Count: '3', Tags: 'x', On: 'yes', Data: '***', Attrs: { a: 1.5 } })).toEqual([
      'Demo Get 200: Count: "3", not an integer',
      'Demo Get 200: Tags: string, not a list',
      'Demo Get 200: On: string, not a boolean',
      'Demo Get 200: Data: not a base64 blob',
      'Demo Get 200: Attrs.a: 1.5, not an integer',
    ]);
    expect(answer({ Id: 'a', State: 'MAYBE' })).toEqual(['Demo Get 200: State: "MAYBE" is not one of ON, OFF']);
    expect(answer({ Id: 'a', When: 0 })).toEqual(['Demo Get 200: When: 1970-01-01T00:00:00.000Z is no time AWS writes (an unset date?)']);
    expect(answer({ Id: null })).toEqual(['Demo Get 200: Id: null (AWS leaves an absent member out)']);
  });

  it('names an error code the operation does not list, and a response without its request id', () => {
    expect(answer({ __type: 'InvalidRequestException', message: 'no' }, 400)).toEqual(['Demo Get 400: error code InvalidRequestException is neither one Get lists nor a common AWS error']);
    expect(answer({ Id: 'a' }, 200, {})).toEqual(['Demo Get 200: no x-amzn-RequestId header']);
  });

  it('reads Query documents and S3 request paths', () => {
    const query: ServiceModel = { ...json, metadata: { ...json.metadata, protocol: 'query' }, operations: { Get: { ...json.operations.Get!, output: { shape: 'Out', resultWrapper: 'GetResult' } } } };
    const xml = (result: string) => `<GetResponse xmlns="x"><GetResult>${result}</GetResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetResponse>`;
    expect(checkResponse(query, 'Get', { status: 200, headers: ok, body: xml('<Id>a</Id><Tags><member>x</member></Tags><Count>2</Count>') })).toEqual([]);
    expect(checkResponse(query, 'Get', { status: 200, headers: ok, body: xml('<Id>a</Id><Count>two</Count><Other/>') })).toEqual(['Demo Get 200: GetResult.Count: "two" is not an integer', "Demo Get 200: GetResult.Other: not a member of the model's Out"]);
    const rest: ServiceModel = {
      ...json,
      metadata: { ...json.metadata, protocol: 'rest-xml' },
      operations: {
        ListObjects: { name: 'ListObjects', http: { method: 'GET', requestUri: '/{Bucket}' } },
        ListObjectsV2: { name: 'ListObjectsV2', http: { method: 'GET', requestUri: '/{Bucket}?list-type=2' } },
        GetObject: { name: 'GetObject', http: { method: 'GET', requestUri: '/{Bucket}/{Key+}' } },
      },
    };
    expect(restOperation(rest, 'GET', '/b?list-type=2&prefix=x')).toBe('ListObjectsV2');
    expect(restOperation(rest, 'GET', '/b')).toBe('ListObjects');
    expect(restOperation(rest, 'GET', '/b/k/e/y')).toBe('GetObject');
    expect(restOperation(rest, 'PUT', '/b')).toBeUndefined();
  });
});

describe("an operation newer than botocore's model: checked against the SDK v3's declarations", () => {
  const emr: ServiceModel = { ...json, service: 'emr', metadata: { ...json.metadata, serviceId: 'EMR' } };
  const check = (operation: string, body: unknown, status = 200) => checkResponse(emr, operation, { status, headers: ok, body: JSON.stringify(body) });

  it('passes the members the SDK declares, with their types; flags others, and an operation neither knows', () => {
    expect(check('GetOnClusterAppUIPresignedURL', { PresignedURLReady: true, PresignedURL: 'https://x' })).toEqual([]);
    expect(check('CreatePersistentAppUI', { PersistentAppUIId: 'p-1', RuntimeRoleEnabledCluster: false })).toEqual([]);
    expect(check('GetOnClusterAppUIPresignedURL', { PresignedURLReady: 'yes', Url: 'https://x' })).toEqual([
      'EMR GetOnClusterAppUIPresignedURL 200: PresignedURLReady is string, the SDK declares boolean',
      'EMR GetOnClusterAppUIPresignedURL 200: Url is not a member of GetOnClusterAppUIPresignedURLOutput (SDK v3)',
    ]);
    expect(check('GetPersistentAppUIPresignedURL', { __type: 'InvalidRequestException', message: 'no' }, 400)).toEqual([]);
    expect(check('MadeUpOperation', {})).toEqual(['EMR MadeUpOperation 200: MadeUpOperation is not an operation of the model']);
  });
});
