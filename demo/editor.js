#!/usr/bin/env node
'use strict';
// npm run editor: the n8n editor at http://localhost:5678 with this node loaded, a credential for the built-in
// simulator, the example workflows and some images to try them on. Stop it with Ctrl-C.
const path = require('path');
const n8n = require('./n8n');
const { writeImages } = require('./images');

const PORT = Number(process.env.N8N_PORT || 5678);
const OWNER = { email: 'demo@example.com', firstName: 'Demo', lastName: 'User', password: 'Demo-password-1' };

/**
 * Starts the simulator and the editor; resolves once a browser can log in, with what a person needs to type
 * (the simulator's addresses and key, the images' absolute paths) and `stop()`. Used by the screenshot script too.
 */
async function startEditor() {
	n8n.ensureN8n();
	const folder = n8n.userFolderFor('editor');
	const files = path.join(folder, 'files');
	const instance = await n8n.createInstance({ folder, filesDir: files });
	const imageDir = path.join(files, 'undetectable', 'images');
	const images = writeImages(imageDir).map((name) => path.join(imageDir, name));
	// Fixed ports, so the saved credential keeps working across restarts.
	const sim = await n8n.startSimulator(
		{ timing: { startMs: 200, resultMs: 1500, heatmapMs: 1000, analysisMs: 2000, perImageMs: 50 } },
		{ SIM_API_PORT: process.env.SIM_API_PORT || '5791', SIM_STORAGE_PORT: process.env.SIM_STORAGE_PORT || '5792' },
	);
	try {
		await n8n.importAll(instance, { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl }, n8n.exampleWorkflows(files));
		// Loopback only unless asked otherwise: the demo owner's password is printed in the README. n8n's output is
		// kept, not shown (runs show in the editor): warnings and errors only, printed should n8n stop by itself.
		const env = { N8N_LOG_LEVEL: 'warn', ...(process.env.N8N_LISTEN_ADDRESS ? { N8N_LISTEN_ADDRESS: process.env.N8N_LISTEN_ADDRESS } : {}) };
		const server = await n8n.startServer(instance, { port: PORT, owner: OWNER, env });
		return {
			base: server.base,
			owner: OWNER,
			files,
			images,
			simulator: { apiUrl: sim.apiUrl, storageUrl: sim.storageUrl, key: sim.key },
			credentialName: n8n.CREDENTIAL.name,
			server,
			stop: async () => {
				await server.stop();
				sim.stop();
			},
		};
	} catch (error) {
		sim.stop();
		throw error;
	}
}

function describe(editor) {
	const pad = (s) => s.padEnd(18);
	return [
		'',
		`The n8n editor is at ${editor.base}  (log in as ${editor.owner.email} / ${editor.owner.password})`,
		`It has the Undetectable AI Image Detector node (search "undetectable", "AI image" or "deepfake" in the nodes`,
		`panel), the example workflows, and the credential "${editor.credentialName}" for the built-in API simulator.`,
		'',
		'A second credential for the simulator takes:',
		`  ${pad('API Key')}${editor.simulator.key}`,
		`  ${pad('API Base URL')}${editor.simulator.apiUrl}`,
		`  ${pad('Storage Base URL')}${editor.simulator.storageUrl}`,
		'',
		'Sample images, for the File(s) Selector of Read/Write Files from Disk (it takes absolute paths):',
		...editor.images.map((f) => `  ${f}`),
		`  all six at once: ${path.join(path.dirname(editor.images[0]), '*.png')}`,
		`This n8n reads and writes files only under ${editor.files}.`,
		'',
		'Ctrl-C stops it.',
	].join('\n');
}

if (require.main === module) {
	startEditor()
		.then((editor) => {
			console.log(describe(editor));
			let stopping = false;
			const stop = async (code = 0) => {
				if (stopping) return;
				stopping = true;
				await editor.stop();
				process.exit(code);
			};
			process.on('SIGINT', () => stop());
			process.on('SIGTERM', () => stop());
			editor.server.proc.done.then(({ code, signal }) => {
				if (stopping) return;
				console.error(`n8n stopped by itself (exit ${code ?? signal}). What it printed last:\n${editor.server.proc.output.split('\n').slice(-40).join('\n')}`);
				stop(1);
			});
		})
		.catch((e) => {
			console.error(e.message);
			process.exit(1);
		});
}

module.exports = { startEditor, OWNER };
