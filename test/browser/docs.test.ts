import t from 'tap'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.js'
import { listeningApp } from '../helpers/local-app.js'

const skip = await chromiumUnavailable()
const API_KEY = 'docs-test-key'
// a host name that is not loopback: browsers treat http://127.0.0.1 as secure and would hide
// what a plain-HTTP deployment (http://gateway:3000/docs) gets, e.g. upgrade-insecure-requests
const HOST = 'gateway.test'

/** What the page did besides rendering: anything here is a defect of the docs page. */
interface PageTrouble { offsite: string[], failed: string[], cspViolations: string[], pageErrors: string[] }

/** Records off-site requests (and aborts them: the page must work offline), failures and CSP violations. */
async function watch (page: Page, origin: string): Promise<PageTrouble> {
  const trouble: PageTrouble = { offsite: [], failed: [], cspViolations: [], pageErrors: [] }
  await page.route('**/*', async route => {
    const url = route.request().url()
    if (url.startsWith(origin + '/') || url.startsWith('data:')) return await route.continue()
    trouble.offsite.push(url)
    return await route.abort('internetdisconnected')
  })
  // runs in the page (a string: this project compiles without DOM types)
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', e => {
      console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber)
    })`
  })
  page.on('console', message => { if (message.text().startsWith('CSP violation') || /Content Security Policy/.test(message.text())) trouble.cspViolations.push(message.text()) })
  page.on('pageerror', err => { trouble.pageErrors.push(err.message) })
  page.on('requestfailed', request => { if (!trouble.offsite.includes(request.url())) trouble.failed.push(`${request.url()}: ${request.failure()?.errorText ?? ''}`) })
  return trouble
}

t.test('/docs works offline: authorize, try POST /v1/summarize, see 200 and a summary', { skip, timeout: 120_000 }, async t => {
  const { url } = await listeningApp(t, { API_KEYS: API_KEY })
  const origin = url.replace('127.0.0.1', HOST)
  const browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`])
  t.teardown(async () => { await browser.close() })
  const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } })
  page.setDefaultTimeout(20_000)
  const trouble = await watch(page, origin)
  // kept for debugging (pass or fail): the whole page, and the summarize operation alone
  const shots = await mkdtemp(join(tmpdir(), 't2t-docs-'))
  t.teardown(async () => {
    await page.screenshot({ path: join(shots, 'docs.png'), fullPage: true }).catch(() => {})
    await page.locator('#operations-real-time-summarize').screenshot({ path: join(shots, 'summarize.png') }).catch(() => {})
    t.comment(`screenshots: ${shots}`)
  })

  const res = await page.goto(`${origin}/docs`)
  t.equal(res?.status(), 200, 'GET /docs')
  const csp = res?.headers()['content-security-policy'] ?? ''
  t.match(csp, /default-src 'self'/, 'the page has a CSP')
  t.notMatch(csp, /upgrade-insecure-requests|https:|unsafe-inline/, 'same-origin only, no upgrade to https')

  // Authorize with the bearer scheme the document declares
  await page.locator('.auth-wrapper .authorize').click()
  const dialog = page.locator('.dialog-ux .modal-ux')
  await dialog.locator('input').first().fill(API_KEY)
  await dialog.locator('button.modal-btn.authorize').click()
  await dialog.locator('button.modal-btn.btn-done').click()

  const op = page.locator('#operations-real-time-summarize')
  await op.locator('.opblock-summary').first().click()
  await op.getByRole('button', { name: 'Try it out' }).click()
  const body = op.locator('textarea.body-param__text')
  if ((await body.inputValue()).trim() === '') {
    await body.fill(JSON.stringify({ text: 'The council voted to extend the tram line. Work starts in spring.' }))
  }
  t.match(await body.inputValue(), /"text"/, 'the request body holds the example')
  await op.getByRole('button', { name: 'Execute' }).click()

  const live = op.locator('.live-responses-table tbody tr.response').first()
  await live.waitFor()
  t.equal((await live.locator('.response-col_status').innerText()).trim(), '200', 'the response shows 200')
  const shown = await live.locator('.response-col_description pre').first().innerText()
  const answer = JSON.parse(shown) as { summary?: unknown, generated_texts?: unknown[], model?: unknown }
  t.type(answer.summary, 'string', 'the response shows a summary')
  t.ok(typeof answer.summary === 'string' && answer.summary.length > 0, 'a non-empty summary')
  t.equal(answer.summary, answer.generated_texts?.[0], 'summary = generated_texts[0]')
  t.match(await op.locator('.request-url pre, .request-url').first().innerText(), `${origin}/v1/summarize`, 'sent to this gateway')
  t.match(await op.locator('.curl-command').first().innerText(), `Authorization: Bearer ${API_KEY}`, 'with the bearer key')

  t.same(trouble.offsite, [], 'no request leaves the gateway (works offline)')
  t.same(trouble.failed, [], 'no request failed')
  t.same(trouble.cspViolations, [], 'no CSP violation')
  t.same(trouble.pageErrors, [], 'no script error')
})
