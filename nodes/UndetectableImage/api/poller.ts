import type { IDataObject } from 'n8n-workflow';

import { pause } from '../helpers/pause';

/** A /query answer: the document, or null when the id is unknown (the API answers HTTP 200 with `null`). */
export type QueryAnswer = IDataObject | null;

export interface Watch {
	id: string;
	/** What is awaited; timings are learned per phase ("result", "heatmap", "analysis", "bulk"). */
	phase: string;
	/** Whether this answer ends the wait (done, failed, unknown id, heatmap ready, ...). */
	isFinished: (answer: QueryAnswer) => boolean;
	/** When to give up (ms since epoch). */
	deadline: number;
	/** When the awaited work started (the submission, or the moment the score was ready). */
	since: number;
	/** Ask at once, rather than after the phase's usual processing time (Get Result). */
	immediate?: boolean;
	itemIndex?: number;
}

export interface WaitOutcome {
	answer: QueryAnswer;
	timedOut: boolean;
}

interface Entry extends Watch {
	nextAt: number;
	interval: number;
	/** When a query last found it unfinished. */
	lastMissAt?: number;
	inFlight: boolean;
	resolve: (o: WaitOutcome) => void;
	reject: (e: unknown) => void;
}

/** First query after this long when nothing has been learned yet in this run (ms). */
const FIRST_DELAY: Record<string, number> = { result: 1000, heatmap: 700, analysis: 1500, bulk: 1500 };
const FIRST_INTERVAL = 200;
/** Asking first slightly after the learned time: a miss costs a whole interval, a late hit only this. */
const MARGIN = 50;
/** A first query that already found it done says only "sooner than this": aim a little earlier next time. */
const PROBE = 100;
const MAX_INTERVAL = 5000;
const GROWTH = 1.3;
const MAX_QUERIES_IN_FLIGHT = 8;

/**
 * One polling loop for every document a node run waits for. Each watch is queried on its own schedule:
 * first when the work usually finishes (learned from the documents of this run that finished already), then
 * at a short interval that grows, so a fast result is seen quickly and a slow one costs few queries.
 * Several watches on one id share one query.
 *
 * Learning: a document seen unfinished at t1 and finished at t2 finished around (t1 + t2) / 2; one finished at
 * its first query finished some time before it, so the estimate is pulled a little earlier. The first query of
 * the next document goes out at the median estimate plus a small margin.
 */
export class Poller {
	private readonly entries = new Set<Entry>();
	private readonly learned = new Map<string, number[]>();
	private running = false;
	private waking?: AbortController;
	private inFlight = 0;

	constructor(
		private readonly query: (id: string, itemIndex?: number) => Promise<QueryAnswer>,
		private readonly cancelSignal?: AbortSignal,
	) {}

	wait(watch: Watch): Promise<WaitOutcome> {
		return new Promise((resolve, reject) => {
			const delay = watch.immediate ? 0 : this.firstDelay(watch.phase);
			this.entries.add({
				...watch,
				nextAt: Math.max(Date.now(), watch.since + delay),
				interval: FIRST_INTERVAL,
				inFlight: false,
				resolve,
				reject,
			});
			this.wake();
			if (!this.running) void this.loop();
		});
	}

	private firstDelay(phase: string): number {
		const seen = this.learned.get(phase);
		if (!seen?.length) return FIRST_DELAY[phase] ?? 1000;
		const sorted = [...seen].sort((a, b) => a - b);
		return Math.max(50, sorted[Math.floor(sorted.length / 2)] + MARGIN);
	}

	private learn(phase: string, ms: number): void {
		const seen = this.learned.get(phase) ?? [];
		seen.push(ms);
		if (seen.length > 50) seen.shift();
		this.learned.set(phase, seen);
	}

	private wake(): void {
		this.waking?.abort();
	}

	/** Never rejects: if the loop itself breaks (it cannot sleep, say), every waiting item fails with that error. */
	private async loop(): Promise<void> {
		this.running = true;
		try {
			while (this.entries.size) {
				if (this.cancelSignal?.aborted) {
					this.failAll(new Error('The execution was cancelled'));
					break;
				}
				const now = Date.now();
				const idle = [...this.entries].filter((e) => !e.inFlight);
				const due = idle.filter((e) => e.nextAt <= now);
				const byId = new Map<string, Entry[]>();
				for (const e of due) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
				for (const [id, group] of byId) {
					if (this.inFlight >= MAX_QUERIES_IN_FLIGHT) break;
					void this.ask(id, group);
				}
				const waiting = [...this.entries].filter((e) => !e.inFlight);
				const next = waiting.length ? Math.min(...waiting.map((e) => e.nextAt)) : now + 60_000;
				const napMs = Math.max(this.inFlight >= MAX_QUERIES_IN_FLIGHT ? 20 : 0, next - Date.now());
				if (napMs > 0) await this.nap(napMs);
			}
		} catch (error) {
			this.failAll(error);
		} finally {
			this.running = false;
		}
	}

	private failAll(error: unknown): void {
		for (const e of this.entries) e.reject(error);
		this.entries.clear();
	}

	/** Sleeps until the next query is due, a watch is added, a query comes back, or the execution is cancelled. */
	private async nap(ms: number): Promise<void> {
		this.waking = new AbortController();
		const signals = this.cancelSignal ? [this.waking.signal, this.cancelSignal] : [this.waking.signal];
		try {
			await pause(ms, AbortSignal.any(signals));
		} finally {
			this.waking = undefined;
		}
	}

	private async ask(id: string, group: Entry[]): Promise<void> {
		for (const e of group) e.inFlight = true;
		this.inFlight++;
		try {
			const answer = await this.query(id, group[0].itemIndex);
			const now = Date.now();
			for (const e of group) {
				e.inFlight = false;
				if (e.isFinished(answer)) {
					this.entries.delete(e);
					if (!e.immediate) {
						const finishedAround = e.lastMissAt !== undefined ? (e.lastMissAt + now) / 2 : now - PROBE;
						this.learn(e.phase, Math.max(0, finishedAround - e.since));
					}
					e.resolve({ answer, timedOut: false });
				} else if (now >= e.deadline) {
					this.entries.delete(e);
					e.resolve({ answer, timedOut: true });
				} else {
					e.lastMissAt = now;
					e.nextAt = Math.min(e.deadline, now + e.interval);
					e.interval = Math.min(MAX_INTERVAL, e.interval * GROWTH);
				}
			}
		} catch (error) {
			for (const e of group) {
				this.entries.delete(e);
				e.reject(error);
			}
		} finally {
			this.inFlight--;
			this.wake();
		}
	}
}
