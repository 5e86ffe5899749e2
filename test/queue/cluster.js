'use strict';
// n8n in queue mode on loopback, from this project's own scripts: Redis (Debian's redis-server, installed when
// missing, no persistence), an n8n main that takes the webhooks, and workers that run the executions, all sharing
// one user folder (one sqlite database, one binary data folder, the package installed once) and one encryption key.
// Everything started here is stopped by its process group.
const n8n = require('../../demo/n8n');

const { startProcess: start, until } = n8n;

/**
 * Starts Redis, then main, then `workers` workers, with `workflows` imported and activated and a credential for
 * `credentialData`. Resolves once the webhook at `webhookPath` answers.
 */
async function startCluster({ credentialData, workflows, activate, webhookPath, workers = 2 }) {
	n8n.ensureDebianPackage('redis-server', 'redis-server');
	n8n.ensureN8n();
	const procs = [];
	const stop = () => procs.forEach((p) => p.kill('SIGKILL'));
	try {
		const redisPort = await n8n.freePort();
		procs.push(start('redis-server', ['--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no']));

		const instance = await n8n.createInstance();
		await n8n.importAll(instance, credentialData, workflows);
		await n8n.activate(instance, activate);

		const env = { ...instance.env, EXECUTIONS_MODE: 'queue', QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(redisPort) };
		// A worker that dies is noticed in seconds, not the default minute (n8n then marks its executions failed).
		Object.assign(env, { QUEUE_WORKER_LOCK_DURATION: '6000', QUEUE_WORKER_LOCK_RENEW_TIME: '2000', QUEUE_WORKER_STALLED_INTERVAL: '3000' });
		// With a shared folder, NODE_ENV=production makes workers find main's crash journal and sleep 10 s.
		delete env.NODE_ENV;
		const mainPort = await n8n.freePort();
		const main = start(n8n.ensureN8n(), ['start'], { ...env, N8N_PORT: String(mainPort), N8N_RUNNERS_BROKER_PORT: String(await n8n.freePort()) });
		procs.push(main);
		const base = `http://127.0.0.1:${mainPort}`;
		await until('the n8n main process', async () => (await fetch(`${base}/healthz`)).ok, 120_000);

		const workerProcs = [];
		for (let k = 0; k < workers; k++) {
			const worker = { name: `worker-${k + 1}`, executions: new Set() };
			worker.proc = start(
				n8n.ensureN8n(),
				['worker', '--concurrency=10'],
				{ ...env, N8N_RUNNERS_BROKER_PORT: String(await n8n.freePort()), QUEUE_HEALTH_CHECK_PORT: String(await n8n.freePort()), N8N_WORKER_SERVER_ADDRESS: '127.0.0.1' },
				(line) => {
					const started = /Worker started execution (\d+)/.exec(line);
					if (started) worker.executions.add(started[1]);
				},
			);
			procs.push(worker.proc);
			workerProcs.push(worker);
		}
		await until('the workers', async () => workerProcs.every((w) => /ready|Worker started|n8n worker is now ready/i.test(w.proc.output)), 120_000);
		// /healthz turns ready a few seconds before the webhook is registered: probe the webhook itself.
		const webhook = `${base}/webhook/${webhookPath}`;
		await until('the webhook', async () => /POST request/.test(await (await fetch(webhook)).text()), 120_000);
		return { base, webhook, main, workers: workerProcs, instance, stop };
	} catch (error) {
		const tail = procs.map((p) => p.output.split('\n').slice(-30).join('\n')).join('\n----\n');
		stop();
		error.message += `\n${tail}`;
		throw error;
	}
}

module.exports = { startCluster };
