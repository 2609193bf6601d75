/** The links of the gateway's the dashboard's page opens (the Spark UI): http(s) only, whatever the gateway said. */
import { externalUrl } from '../../src/dashboard/web/links';

it.each([
  ['https://p-abc.emrappui-prod.us-east-1.amazonaws.com/shs/?X-Amz-Signature=x', 'https://p-abc.emrappui-prod.us-east-1.amazonaws.com/shs/?X-Amz-Signature=x'],
  ['http://127.0.0.1:18080/history/app-1', 'http://127.0.0.1:18080/history/app-1'],
  ['javascript:alert(document.domain)', undefined],
  [' JaVaScRiPt:alert(1)', undefined],
  ['java\tscript:alert(1)', undefined],
  ['data:text/html,<script>alert(1)</script>', undefined],
  ['file:///etc/passwd', undefined],
  ['vbscript:msgbox', undefined],
  ['/relative/path', undefined],
  ['', undefined],
  [42, undefined],
  [undefined, undefined],
])('%p opens as %p', (given, expected) => {
  expect(externalUrl(given)).toBe(expected);
});
