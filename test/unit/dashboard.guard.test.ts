/**
 * The dashboard server's guard (issue 17): what a page of another site, a DNS-rebinding name, a request without the
 * printed token, or a forged token gets (refused, saying why), and what the dashboard's own page gets.
 */
import { checkRequest } from '../../src/dashboard/guard';

const PORT = 7780;
const TOKEN = 'tok-0123456789abcdefghijklmnopqrstuv';
const own = { host: `127.0.0.1:${PORT}`, 'x-dashboard-token': TOKEN };
const check = (method: string, url: string, headers: Record<string, string | string[]>) => checkRequest({ method, url, headers }, { port: PORT, token: TOKEN });

it("lets in the dashboard's own page: its token in the URL once, then in the header, by either loopback name; the page's static files without", () => {
  expect(check('GET', `/?token=${TOKEN}`, { host: own.host, 'sec-fetch-site': 'none' })).toEqual({ ok: true, tokenFromQuery: true });
  expect(check('GET', '/api/jobs', { ...own, 'sec-fetch-site': 'same-origin' })).toEqual({ ok: true, tokenFromQuery: false });
  expect(check('DELETE', '/api/jobs/job-x', { ...own, origin: `http://127.0.0.1:${PORT}`, 'sec-fetch-site': 'same-origin' })).toMatchObject({ ok: true });
  expect(check('GET', '/', { host: `localhost:${PORT}`, 'x-dashboard-token': TOKEN })).toMatchObject({ ok: true });
  expect(check('POST', '/api/jobs/job-x/rerun', { host: `localhost:${PORT}`, 'x-dashboard-token': TOKEN, origin: `http://localhost:${PORT}` })).toMatchObject({ ok: true });
  // `dashboard --open` starts the browser on a file (file: is another site) that sends it on to the printed URL.
  const navigation = { host: own.host, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
  expect(check('GET', `/?token=${TOKEN}`, navigation)).toEqual({ ok: true, tokenFromQuery: true });
  for (const path of ['/', '/assets/app.js', '/assets/app.css']) expect(check('GET', path, { host: own.host, 'sec-fetch-site': 'none' })).toMatchObject({ ok: true });
});

it.each([
  ['no token', 'GET', '/api/jobs', { host: own.host }, 401, /no token/],
  ['a wrong token in the header', 'GET', '/api/jobs', { host: own.host, 'x-dashboard-token': 'guess' }, 401, /not the token/],
  // A cookie goes to every port of 127.0.0.1: one (even the right token, as the dashboard once set) is no proof.
  ['the token in a cookie (what any no-cors request of a same-site page carries)', 'GET', '/api/jobs', { host: own.host, cookie: `emr-gateway-dashboard-${PORT}=${TOKEN}` }, 401, /no token/],
  ['dashboard.json without the token', 'GET', '/dashboard.json', { host: own.host }, 401, /no token/],
  ['a path beside the static files without the token', 'GET', '/assets/app.js.map', { host: own.host }, 401, /no token/],
  ['a POST to the page without the token', 'POST', '/', { host: own.host, origin: `http://${own.host}` }, 401, /no token/],
  ['a repeated token header', 'GET', '/api/jobs', { host: own.host, 'x-dashboard-token': [TOKEN, TOKEN] }, 401, /no token/],
  ['a foreign Host for the page itself', 'GET', '/', { host: `rebound.example:${PORT}` }, 403, /Host/],
  ['a cross-site page load', 'GET', '/', { host: own.host, 'sec-fetch-site': 'cross-site' }, 403, /cross-site/],
  ['a cross-site navigation without the token', 'GET', '/', { host: own.host, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }, 403, /cross-site/],
  ['a cross-site navigation with a wrong token', 'GET', '/?token=guess', { host: own.host, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }, 403, /cross-site/],
  ['a cross-site frame with the token', 'GET', `/?token=${TOKEN}`, { host: own.host, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }, 403, /cross-site/],
  ['a cross-site fetch with the token', 'GET', `/?token=${TOKEN}`, { host: own.host, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty' }, 403, /cross-site/],
  ['a wrong token in the URL', 'GET', '/?token=guess', { host: own.host }, 401, /not the token/],
  ['the token in the URL of anything but the page', 'GET', `/api/jobs?token=${TOKEN}`, { host: own.host }, 401, /only in the page's own address/],
  ['a foreign Host (DNS rebinding)', 'GET', '/api/jobs', { ...own, host: `evil.example:${PORT}` }, 403, /Host "evil.example:7780" is not this dashboard's/],
  ['another port in the Host', 'GET', '/api/jobs', { ...own, host: `127.0.0.1:${PORT + 1}` }, 403, /Host/],
  ['no Host', 'GET', '/api/jobs', { 'x-dashboard-token': TOKEN }, 403, /Host/],
  ['a repeated Host', 'GET', '/api/jobs', { ...own, host: [own.host, 'evil.example'] }, 403, /Host/],
  ['another Origin', 'DELETE', '/api/jobs/job-x', { ...own, origin: 'https://evil.example' }, 403, /from "https:\/\/evil.example"/],
  ['a null Origin (a sandboxed frame)', 'GET', '/api/jobs', { ...own, origin: 'null' }, 403, /from "null"/],
  ['the other loopback name as Origin', 'GET', '/api/jobs', { ...own, origin: `http://localhost:${PORT}` }, 403, /not from this dashboard/],
  ['a cross-site request', 'GET', '/api/jobs', { ...own, 'sec-fetch-site': 'cross-site' }, 403, /cross-site request/],
  ['a same-site request of another port', 'GET', '/api/jobs', { ...own, 'sec-fetch-site': 'same-site' }, 403, /same-site request/],
  ['a DELETE without an Origin', 'DELETE', '/api/jobs/job-x', own, 403, /without an Origin/],
  ['a POST without an Origin', 'POST', '/api/jobs/job-x/rerun', own, 403, /without an Origin/],
])('refuses %s', (_what, method, url, headers, status, reason) => {
  const verdict = check(method, url, headers);
  expect(verdict).toMatchObject({ ok: false, status });
  expect(verdict.ok ? '' : verdict.reason).toMatch(reason);
});
