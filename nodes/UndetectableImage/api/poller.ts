import type { IDataObject } from 'n8n-workflow';

import { pause } from '../helpers/pause';
import { timing } from '../transport/timing';

/** A /query answer: the document, or null when the id is unknown (the API answers HTTP 200 with `null`). */
export type QueryAnswer = IDataObject | null;

export interface Watch {
	id: string;
	/** What is awaited ("result", "result+heatmap", "result+analysis", "bulk"); times are learned per phase. */
	phase: string;
	/** Whether this answer ends the wait (done, failed, unknown id, heatmap ready, ...). */
	isFinished: (answer: QueryAnswer) => boolean;
	/** When to give up (ms since the epoch). */
	deadline: number;
	/**
	 * When this run submitted the document. Set: the first query goes out when such work usually finishes, and
	 * what this document shows is learned. Unset (an ID from elsewhere, whose start is unknown): nothing is learned.
	 */
	submittedAt?: number;
	/** For an ID from elsewhere: ask at once (Get Result) rather than after one interval (just asked). */
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
	/** How many queries this watch has seen. */
	asked: number;
	/** When a query last found it unfinished. */
	lastMissAt?: number;
	inFlight: boolean;
	resolve: (o: WaitOutcome) => void;
	reject: (e: unknown) => void;
}

/** Asking first slightly after the learned time: a miss costs a whole interval, a late hit only this. */
const MARGIN = 50;
/** A first query that already found it done says only "sooner than this": aim a little earlier next time. */
const EARLY_HIT_PULL = 70;
const GROWTH = 1.3;
const MAX_QUERIES_IN_FLIGHT = 8;
/** How long the query due at a wait's deadline may still take. */
const FINAL_LOOK_MS = 2000;
/** How many recent documents of a phase the estimate is the median of: few, so that it follows a change fast. */
const LEARNED_WINDOW = 10;

/**
 * One polling loop for every document a node run waits for. Each watch is queried on its own schedule:
 * first when the work usually finishes (learned from the documents of this run that finished already), then
 * at a short interval that grows, so a fast result is seen quickly and a slow one costs few queries.
 * Several watches on one id share one query.
 *
 * Learning: a document seen unfinished at t1 and finished at t2 finished around (t1 + t2) / 2; one finished at
 * its first query finished some time before it, so the estimate is pulled a little earlier. The first query of
 * the next document goes out at the median estimate plus a small margin. While a phase has no estimate yet, one
 * document probes and the others of that phase hold their first query until it has one, so that many documents
 * started together do not all ask too early.
 */
export class Poller {
	private readonly entries = new Set<Entry>();
	private readonly learned = new Map<string, number[]>();
	private running = false;
	private waking?: AbortController;
	private inFlight = 0;

	constructor(
		private readonly query: (id: string, scope: { itemIndex?: number; deadline?: number }) => Promise<QueryAnswer>,
		private readonly cancelSignal?: AbortSignal,
	) {}

	wait(watch: Watch): Promise<WaitOutcome> {
		return new Promise((resolve, reject) => {
			const now = Date.now();
			const nextAt =
				watch.submittedAt !== undefined
					? Math.max(now, watch.submittedAt + this.firstDelay(watch.phase))
					: now + (watch.immediate ? 0 : timing.queryIntervalMs);
			this.entries.add({ ...watch, nextAt, interval: timing.queryIntervalMs, asked: 0, inFlight: false, resolve, reject });
			this.wake();
			if (!this.running) void this.loop();
		});
	}

	private firstDelay(phase: string): number {
		const seen = this.learned.get(phase);
		if (!seen?.length) return timing.firstQueryMs[phase] ?? timing.firstQueryMs.result;
		const sorted = [...seen].sort((a, b) => a - b);
		return Math.max(50, sorted[Math.floor(sorted.length / 2)] + MARGIN);
	}

	private learn(phase: string, ms: number): void {
		const seen = this.learned.get(phase) ?? [];
		seen.push(ms);
		if (seen.length > LEARNED_WINDOW) seen.shift();
		this.learned.set(phase, seen);
		// Those that held their first query for this estimate aim at it now.
		const now = Date.now();
		for (const e of this.entries) {
			if (e.phase === phase && e.asked === 0 && !e.inFlight && e.submittedAt !== undefined) {
				e.nextAt = Math.max(now, e.submittedAt + this.firstDelay(phase));
			}
		}
	}

	/** Whether a watch belongs to a phase with no estimate yet, so that one of its phase probes for the rest. */
	private unknownPhase(e: Entry): boolean {
		return e.submittedAt !== undefined && !this.learned.has(e.phase);
	}

	/**
	 * The watches to ask now: those due, except that of a phase with no estimate only one (the probe) is asked;
	 * the others hold their first query until it has one (or until their own deadline).
	 */
	private dueNow(now: number): Entry[] {
		const probing = new Set<string>();
		for (const e of this.entries) if (this.unknownPhase(e) && (e.asked > 0 || e.inFlight)) probing.add(e.phase);
		const due: Entry[] = [];
		for (const e of this.entries) {
			if (e.inFlight || e.nextAt > now) continue;
			if (this.unknownPhase(e) && e.asked === 0 && now < e.deadline) {
				if (probing.has(e.phase)) continue;
				probing.add(e.phase);
			}
			due.push(e);
		}
		return due;
	}

	/** Whether a watch waits for the probe of its phase (then the probe's answer wakes the loop, not a timer). */
	private holding(e: Entry, now: number): boolean {
		return this.unknownPhase(e) && e.asked === 0 && now < e.deadline;
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
				this.askDue(this.dueNow(now));
				// Held watches wake with the probe's answer; a cap on queries in flight is checked again soon.
				const waiting = [...this.entries].filter((e) => !e.inFlight && !(this.holding(e, now) && e.nextAt <= now));
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

	/** Sends one query per due id (watches on the same id share it), within the cap on queries in flight. */
	private askDue(due: Entry[]): void {
		const byId = new Map<string, Entry[]>();
		for (const e of due) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
		for (const [id, group] of byId) {
			if (this.inFlight >= MAX_QUERIES_IN_FLIGHT) break;
			void this.ask(id, group);
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
		for (const e of group) {
			e.inFlight = true;
			e.asked++;
		}
		this.inFlight++;
		try {
			// Watches on one id share the query. The last one is due at the deadline itself: it gets a little grace,
			// so that the wait ends with what the document was then, not with a request that was never sent.
			const answer = await this.query(id, { itemIndex: group[0].itemIndex, deadline: Math.max(...group.map((e) => e.deadline)) + FINAL_LOOK_MS });
			const now = Date.now();
			for (const e of group) {
				e.inFlight = false;
				if (e.isFinished(answer)) {
					this.entries.delete(e);
					if (e.submittedAt !== undefined && answer !== null) {
						const finishedAround = e.lastMissAt !== undefined ? (e.lastMissAt + now) / 2 : now - EARLY_HIT_PULL;
						this.learn(e.phase, Math.max(0, finishedAround - e.submittedAt));
					}
					e.resolve({ answer, timedOut: false });
				} else if (now >= e.deadline) {
					this.entries.delete(e);
					e.resolve({ answer, timedOut: true });
				} else {
					e.lastMissAt = now;
					// The probe that others hold for asks at a short, even pace; the rest (and a lone batch) back off.
					const probing = this.unknownPhase(e) && [...this.entries].some((other) => other !== e && other.phase === e.phase && this.holding(other, now));
					e.nextAt = Math.min(e.deadline, now + (probing ? timing.probeIntervalMs : e.interval));
					if (!probing) e.interval = Math.min(timing.maxQueryIntervalMs, e.interval * GROWTH);
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
