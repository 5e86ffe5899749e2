#!/usr/bin/env node
'use strict';
// npm run editor: the n8n editor at http://localhost:5678 with this node loaded, a credential for the built-in
// simulator, the example workflows and some images to try them on. Stop it with Ctrl-C.
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const n8n = require('./n8n');
const { writeImages } = require('./images');

const PORT = Number(process.env.N8N_PORT || 5678);
const OWNER = { email: 'demo@example.com', firstName: 'Demo', lastName: 'User', password: 'Demo-password-1' };

async function waitFor(url, ms) {
	const until = Date.now() + ms;
	while (Date.now() < until) {
		try {
			if ((await fetch(url)).ok) return;
		} catch {
			// not up yet
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	throw new Error(`${url} did not answer within ${ms / 1000} s`);
}

/** Starts the editor; resolves once it answers, with a stop function. Used by the screenshot script too. */
async function startEditor({ quiet = false } = {}) {
	n8n.ensureN8n();
	const folder = n8n.userFolderFor('editor');
	const files = path.join(folder, 'files');
	const instance = await n8n.createInstance({ folder, filesDir: files });
	writeImages(path.join(files, 'undetectable', 'images'));
	// Fixed ports, so the saved credential keeps working across restarts.
	const sim = await n8n.startSimulator(
		{ timing: { startMs: 200, resultMs: 1500, heatmapMs: 1000, analysisMs: 2000, perImageMs: 50 } },
		{ SIM_API_PORT: process.env.SIM_API_PORT || '5791', SIM_STORAGE_PORT: process.env.SIM_STORAGE_PORT || '5792' },
	);
	await n8n.importAll(instance, { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl }, n8n.exampleWorkflows(files));

	const child = spawn(n8n.ensureN8n(), ['start'], {
		env: { ...instance.env, N8N_PORT: String(PORT), N8N_LOG_LEVEL: quiet ? 'warn' : 'info' },
		stdio: quiet ? 'ignore' : 'inherit',
	});
	const base = `http://localhost:${PORT}`;
	await waitFor(`${base}/healthz`, 120_000);
	await waitFor(`${base}/rest/settings`, 60_000);
	// A fresh instance asks for an owner account first: make one, so a person (or a script) can log in at once.
	await fetch(`${base}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(OWNER),
	}).catch(() => undefined);
	return {
		base,
		owner: OWNER,
		files,
		stop: () => {
			child.kill('SIGTERM');
			sim.stop();
		},
	};
}

if (require.main === module) {
	startEditor()
		.then((editor) => {
			console.log(`\nThe n8n editor is at ${editor.base}  (log in as ${OWNER.email} / ${OWNER.password})`);
			console.log('It has the Undetectable AI Image Detector node, a simulator credential and the example workflows;');
			console.log(`the examples read images from ${path.relative(n8n.ROOT, path.join(editor.files, 'undetectable', 'images'))}/. Ctrl-C stops it.`);
			const stop = () => {
				editor.stop();
				process.exit(0);
			};
			process.on('SIGINT', stop);
			process.on('SIGTERM', stop);
		})
		.catch((e) => {
			console.error(e.message);
			process.exit(1);
		});
}

module.exports = { startEditor, OWNER };
