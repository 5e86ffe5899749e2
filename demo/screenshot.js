#!/usr/bin/env node
'use strict';
// Makes the README's pictures of the node in the n8n editor: the Detect parameter panel, and a run's output.
// Needs Debian's chromium (apt-get install chromium) and playwright-core (a dev dependency).
//   node demo/screenshot.js      -> docs/editor-detect-parameters.png, docs/editor-detect-output.png
const path = require('path');
const { chromium } = require('playwright-core');
const { startEditor, OWNER } = require('./editor');

const DOCS = path.join(__dirname, '..', 'docs');
const WORKFLOW = 'udDetectNotify01';
const NODE = 'Detect AI image';

async function main() {
	const editor = await startEditor({ quiet: true });
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
	try {
		const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
		const page = await context.newPage();
		const login = await page.request.post(`${editor.base}/rest/login`, { data: { emailOrLdapLoginId: OWNER.email, password: OWNER.password } });
		if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
		await page.goto(`${editor.base}/workflow/${WORKFLOW}`);
		const node = page.locator(`[data-test-id="canvas-node"][data-node-name="${NODE}"]`);
		await node.waitFor({ timeout: 60_000 });
		await page.waitForTimeout(1500);

		// The run: execute the workflow, then open the node to show its parameters and its output side by side.
		await page.locator('[data-test-id="execute-workflow-button"]').click();
		await page.locator('[data-test-id="canvas-node"][data-node-name="Looks real"] [data-test-id="canvas-node-status-success"]').waitFor({ timeout: 120_000 }).catch(() => page.waitForTimeout(10_000));
		await node.dblclick();
		await page.locator('[data-test-id="ndv"]').waitFor({ timeout: 30_000 });
		// Both panels as tables: the input's Binary view would show the folder the images were read from (a path
		// of the machine that made the picture); the output's table shows score, verdict, ... The first "Table"
		// switch belongs to the input panel.
		await page.getByText('Table', { exact: true }).nth(0).click();
		await page.getByText('Table', { exact: true }).nth(1).click();
		await page.waitForTimeout(1500);
		await page.screenshot({ path: path.join(DOCS, 'editor-detect.png') });
		console.log(`wrote ${path.relative(process.cwd(), path.join(DOCS, 'editor-detect.png'))}`);
	} finally {
		await browser.close();
		editor.stop();
	}
}

main().then(
	() => process.exit(0),
	(e) => {
		console.error(e);
		process.exit(1);
	},
);
