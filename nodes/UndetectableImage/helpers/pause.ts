import * as workflow from 'n8n-workflow';

type AbortableSleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * An abortable sleep from n8n-workflow, whichever version n8n loaded (an installed package runs against n8n's own
 * copy, not ours). Before 2.34 that is `sleepWithAbort` (and `sleep` takes no signal); 2.34 removed
 * `sleepWithAbort` and gave `sleep` the signal. Looked up at run time, never imported by name: a missing named
 * import is `undefined`, and calling it once turned every wait into a busy loop. Both clear their timer on abort.
 */
const exported = workflow as unknown as Record<string, unknown>;
const sleepFor = (typeof exported.sleepWithAbort === 'function' ? exported.sleepWithAbort : workflow.sleep) as AbortableSleep;

/**
 * Waits `ms`, or less if `signal` fires first; never throws for the abort itself, so callers decide what an
 * abort means (woken early, or cancelled) by looking at their signals. Any other failure is thrown as it is.
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
	if (signal?.aborted || ms <= 0) return;
	await new Promise<void>((resolve, reject) => {
		const onAbort = () => resolve();
		signal?.addEventListener('abort', onAbort, { once: true });
		sleepFor(ms, signal)
			.then(resolve, (error: unknown) => (signal?.aborted ? resolve() : reject(error)))
			.finally(() => signal?.removeEventListener('abort', onAbort));
	});
}

/**
 * Waits for `work` until `deadline` (ms since the epoch) or a cancel: whether it finished in time. Its timer is
 * cleared as soon as the work ends, so nothing is left waiting.
 */
export async function within(work: Promise<unknown>, deadline: number, cancel?: AbortSignal): Promise<boolean> {
	const settled = new AbortController();
	let finished = false;
	const signal = cancel ? AbortSignal.any([cancel, settled.signal]) : settled.signal;
	await Promise.race([
		work.then(
			() => (finished = true),
			() => (finished = true),
		),
		pause(Math.max(0, deadline - Date.now()), signal),
	]);
	settled.abort();
	return finished;
}
