'use strict';
// Drives the n8n editor in Debian's chromium with playwright-core, for the browser test and the README's pictures.
// Selectors are the editor's own data-test-id attributes, chosen so one set works in the 1.123, 2.8 and 2.41
// editors; where those editors differ (closing the node view), both variants are named here and nowhere else.
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { killGroup } = require('../../demo/n8n');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// No network of its own (updates, sync, QUIC probes): the browser talks to the editor on loopback and nothing else.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = path.join(__dirname, 'artifacts');

/**
 * Chromium as a server process, so its PID is known: playwright starts it as the leader of its own process group,
 * and `close()` ends that group even if the browser no longer answers.
 */
async function launchBrowser(executablePath = CHROMIUM) {
	const server = await chromium.launchServer({ executablePath, args: CHROMIUM_ARGS });
	const pid = server.process().pid;
	const browser = await chromium.connect(server.wsEndpoint());
	return {
		browser,
		pid,
		close: async () => {
			let timer;
			const gaveUp = new Promise((r) => (timer = setTimeout(r, 10_000)));
			await Promise.race([browser.close().then(() => server.close()), gaveUp]).catch(() => undefined);
			clearTimeout(timer);
			killGroup(pid);
		},
	};
}

/** A page logged in to the editor by its REST API (the login form differs between versions and proves nothing here). */
async function openEditor(browser, base, owner, viewport = { width: 1440, height: 900 }) {
	const context = await browser.newContext({ viewport });
	const page = await context.newPage();
	page.setDefaultTimeout(30_000);
	const login = await page.request.post(`${base}/rest/login`, { data: { emailOrLdapLoginId: owner.email, password: owner.password } });
	if (!login.ok()) throw new Error(`Logging in to ${base} as ${owner.email} answered ${login.status()}: ${await login.text()}`);
	return page;
}

/**
 * Runs one step a user takes; when it fails, the error names the step and the screenshot saved of the page at
 * that moment, so a red CI run says what the user would have seen.
 */
async function step(page, name, fn, label = '') {
	try {
		return await fn();
	} catch (error) {
		fs.mkdirSync(ARTIFACTS, { recursive: true });
		const slug = `${label}-${name}`.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-|-$/g, '').slice(0, 100);
		const file = path.join(ARTIFACTS, `${slug}.png`);
		const shot = await page.screenshot({ path: file }).then(
			() => `screenshot: ${file}`,
			(e) => `no screenshot (${e.message.split('\n')[0]})`,
		);
		const wrapped = new Error(`Step "${name}" failed${label ? ` (${label})` : ''}: ${error.message}\n${shot}`);
		wrapped.stack = `${wrapped.message}\n${(error.stack || '').split('\n').slice(1).join('\n')}`;
		throw wrapped;
	}
}

const exactly = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/** What the user sees and clicks in the editor. */
function editor(page, base) {
	const creator = page.locator('[data-test-id="node-creator"]');
	const searchBar = page.locator('[data-test-id="node-creator-search-bar"]');
	/** Entries of the nodes panel (search results, actions) shown now; hidden panels stay in the DOM behind them. */
	const entries = () => page.locator('[data-test-id="node-creator-item-name"]').filter({ visible: true });
	const entry = (text) => entries().filter({ hasText: typeof text === 'string' ? exactly(text) : text });
	const ndv = page.locator('[data-test-id="ndv"]');
	const canvasNode = (type) => page.locator(`[data-test-id="canvas-node"][data-node-type="${type}"]`);

	return {
		page,
		creator,
		searchBar,
		ndv,
		canvasNode,
		entry,
		/** The names the nodes panel lists right now. */
		listed: () => entries().allTextContents(),

		async newWorkflow() {
			await page.goto(`${base}/workflow/new`);
			await page.locator('[data-test-id="canvas-add-button"]').waitFor();
		},

		/** The "Add first step" square of an empty canvas. */
		async openFirstStep() {
			await page.locator('[data-test-id="canvas-add-button"]').click();
			await searchBar.waitFor();
		},

		/** The "+" on the output of the node named `nodeName`. */
		async openPlusAfter(nodeName) {
			await page.locator(`[data-test-id="canvas-node-output-handle"][data-node-name="${nodeName}"] [data-test-id="canvas-handle-plus"]`).click();
			await searchBar.waitFor();
		},

		/** The "+" of a sub-node input (ai_tool, ai_languageModel, ...) of the node named `nodeName`. */
		async openPlusOfInput(nodeName, connectionType) {
			await page
				.locator(`[data-test-id="canvas-node-input-handle"][data-node-name="${nodeName}"][data-connection-type="${connectionType}"] [data-test-id="canvas-handle-plus"]`)
				.click();
			await searchBar.waitFor();
		},

		/** Types `query` into the nodes panel and waits until `name` is listed; the error says what was listed instead. */
		async searchFinds(query, name) {
			await searchBar.fill(query);
			try {
				await entry(name).first().waitFor({ timeout: 10_000 });
			} catch {
				throw new Error(`searching "${query}" did not list "${name}"; it listed: ${JSON.stringify(await entries().allTextContents())}`);
			}
		},

		/** Clicks a listed entry (a node in the results, an action in a node's actions list). */
		async choose(name) {
			await entry(name).first().click();
		},

		async closeNdv() {
			// 2.x: a close button; 1.x: "Back to canvas".
			await page.locator('[data-test-id="ndv-close-button"], [data-test-id="back-to-canvas"]').first().click();
			await ndv.waitFor({ state: 'hidden' });
		},

		/** The text field of parameter `name` in the open node view. */
		parameterInput: (name) => ndv.locator(`[data-test-id="parameter-input-${name}"]`).locator('input, textarea').first(),

		/** The credential the open node view has selected, as shown. */
		async selectedCredential() {
			const select = ndv.locator('[data-test-id="node-credentials-select"]');
			await select.waitFor();
			const input = select.locator('input');
			const value = (await input.count()) ? await input.first().inputValue() : '';
			return value || (await select.innerText()).trim();
		},

		/** Runs the workflow from its Execute button; resolves when node `type` shows success, fails on a warning. */
		async executeWorkflow(type, timeout = 90_000) {
			await page.locator('[data-test-id="execute-workflow-button"]').click();
			const node = canvasNode(type);
			const success = node.locator('[data-test-id="canvas-node-status-success"]');
			const warning = node.locator('[data-test-id="canvas-node-status-warning"]');
			await success.or(warning).first().waitFor({ timeout });
			if (await warning.isVisible()) throw new Error(`the node ${type} finished with a warning or error, not success`);
		},

		/** Opens node `type` and gives its output items as the output panel's JSON view shows them. */
		async outputItems(type) {
			await canvasNode(type).first().dblclick();
			const output = page.locator('[data-test-id="output-panel"]');
			await output.locator('[data-test-id="radio-button-json"]').click();
			const tree = output.locator('.vjs-tree').first();
			await tree.waitFor();
			// The view indents with no-break spaces, which JSON does not take as white space.
			const text = (await tree.innerText()).replace(/\u00a0/g, ' ');
			try {
				return JSON.parse(text);
			} catch (error) {
				throw new Error(`the output panel's JSON view is not JSON (${error.message}): ${text.slice(0, 500)}`);
			}
		},
	};
}

module.exports = { launchBrowser, openEditor, step, editor, ARTIFACTS, CHROMIUM };
