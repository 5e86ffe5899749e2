#!/usr/bin/env node
'use strict';
// Makes the README's pictures of the node in the n8n editor (npm run screenshot), with Debian's chromium (installed
// when missing) and playwright-core (a dev dependency):
//   docs/editor-search.png   the nodes panel after a node, "deepfake" typed, the node listed
//   docs/editor-detect.png   Detect's parameters and a run's output (examples/detect-and-notify.json)
const path = require('path');
const n8n = require('./n8n');
const { startEditor } = require('./editor');
const { launchBrowser, openEditor, editor: editorUi } = require('../test/e2e/browser-editor');

const DOCS = path.join(__dirname, '..', 'docs');
const WORKFLOW = 'udDetectNotify01';
const NODE = 'Detect AI image';
const NODE_NAME = 'Undetectable AI Image Detector';

/** Until every image on the page (node icons) has loaded, so a picture never shows an empty square. */
const imagesLoaded = (page) => page.waitForFunction(() => [...document.images].every((i) => i.complete));

async function searchPicture(page, base) {
	const ui = editorUi(page, base);
	await ui.newWorkflow();
	await ui.openFirstStep();
	await ui.searchFinds('manual', /^(Manual Trigger|Trigger manually)$/);
	await ui.choose(/^(Manual Trigger|Trigger manually)$/);
	const trigger = ui.canvasNode('n8n-nodes-base.manualTrigger');
	await trigger.waitFor();
	// What a user does next: the "+" after the trigger, then a word the node's name does not hold.
	await ui.openPlusAfter(await trigger.getAttribute('data-node-name'));
	await ui.searchFinds('deepfake', NODE_NAME);
	await imagesLoaded(page);
	const file = path.join(DOCS, 'editor-search.png');
	await page.screenshot({ path: file });
	return file;
}

async function detectPicture(page, base) {
	await page.goto(`${base}/workflow/${WORKFLOW}`);
	const node = page.locator(`[data-test-id="canvas-node"][data-node-name="${NODE}"]`);
	await node.waitFor({ timeout: 60_000 });

	// The run: execute the workflow, then open the node to show its parameters and its output side by side.
	await page.locator('[data-test-id="execute-workflow-button"]').click();
	await page.locator('[data-test-id="canvas-node"][data-node-name="Looks real"] [data-test-id="canvas-node-status-success"]').waitFor({ timeout: 120_000 });
	await node.dblclick();
	await page.locator('[data-test-id="ndv"]').waitFor({ timeout: 30_000 });
	// Both panels as tables: the input's Binary view would show the folder the images were read from (a path
	// of the machine that made the picture); the output's table shows score, verdict, ...
	await page.locator('[data-test-id="ndv-input-panel"] [data-test-id="radio-button-table"]').click();
	await page.locator('[data-test-id="output-panel"] [data-test-id="radio-button-table"]').click();
	await page.locator('[data-test-id="output-panel"] table').waitFor();
	await imagesLoaded(page);
	const file = path.join(DOCS, 'editor-detect.png');
	await page.screenshot({ path: file });
	return file;
}

async function main() {
	const executable = n8n.ensureDebianPackage('chromium', 'chromium');
	const editor = await startEditor();
	let chromium;
	try {
		chromium = await launchBrowser(executable);
		const page = await openEditor(chromium.browser, editor.base, editor.owner);
		for (const picture of [searchPicture, detectPicture]) console.log(`wrote ${path.relative(process.cwd(), await picture(page, editor.base))}`);
	} finally {
		await chromium?.close();
		await editor.stop();
	}
}

main().then(
	() => process.exit(0),
	(e) => {
		console.error(e);
		process.exit(1);
	},
);
