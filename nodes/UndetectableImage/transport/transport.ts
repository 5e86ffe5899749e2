import type { IDataObject, IExecuteFunctions, IHttpRequestOptions } from 'n8n-workflow';
import { jsonParse, NodeOperationError } from 'n8n-workflow';

import { DEFAULT_API_BASE_URL, DEFAULT_STORAGE_BASE_URL, KEY_NOISE } from '../../../credentials/UndetectableImageApi.credentials';

import { nonPublicReason } from '../helpers/addresses';
import { pause } from '../helpers/pause';
import { timing } from './timing';

import { apiError, hintFor, hintForHost, hintForModel, reasonFromBody, type Answerer, type Purpose } from './errors';

export const CREDENTIAL_TYPE = 'undetectableImageApi';

export interface ApiSettings {
	baseUrl: string;
	storageBaseUrl: string;
	apiKey: string;
}

/**
 * When a failed call may be sent again.
 * - `safe`: repeating it changes nothing (presign, PUT, query, downloads, credits, and /detect with our own id):
 *   retry 429, 5xx, dropped connections and timeouts.
 * - `beforeAccepted`: repeating it could bill twice (/bulk-upload takes no id): retry only failures known to come
 *   before the server accepted the request (connection refused, 429, 503).
 */
export type RetryPolicy = 'safe' | 'beforeAccepted';

export interface Call {
	purpose: Purpose;
	method: 'GET' | 'POST' | 'PUT';
	/** A path on the API host: sent with the credential. */
	path?: string;
	/** An absolute URL anywhere else (storage, an image's website): sent with no credential of any kind. */
	url?: string;
	qs?: IDataObject;
	/** A JSON body. */
	json?: IDataObject;
	/** Put the API key into the JSON body (the API's POST endpoints read it there). API host only. */
	withKey?: boolean;
	/** A raw body (uploads). */
	/** A raw body (uploads): bytes, or a function that opens them anew for every attempt (a stream is read once). */
	body?: UploadBody;
	headers?: IDataObject;
	/** Answer as bytes rather than parsed JSON. */
	binary?: boolean;
	/**
	 * Downloads: the most bytes the body may have. It is read as a stream and dropped at this size (or at once, when
	 * the server declares more); `tooLarge` says what to do then.
	 */
	cap?: { maxBytes: number; tooLarge: string };
	/** Who answers (for hints that fit that host): the API when `path` is set, else storage serving a file. */
	answerer?: Answerer;
	/** A heatmap or preview: a redirect to another host is followed there with a plain GET and no key. */
	redirectWithoutKey?: boolean;
	/**
	 * An address an AI model chose (tool mode): its answer's body never reaches an error (a model would read it),
	 * and unless `allowPrivate`, no hop of it (redirects included) may go to a non-public address.
	 */
	untrusted?: { allowPrivate: boolean };
	/** Statuses handed back to the caller instead of being turned into errors (2xx always are). */
	accept?: number[];
	retry: RetryPolicy;
	/** The longest one attempt may take, start to end (at most until the deadline). */
	timeoutMs?: number;
	itemIndex?: number;
	/** When the item's time is up (ms since the epoch): no attempt, backoff or pause goes past it. */
	deadline?: number;
}

/** Which input item a call is for, and until when it may take. */
export interface Scope {
	itemIndex?: number;
	deadline?: number;
}

/** What an upload sends: bytes in memory, or a way to open them (a stream from n8n's binary data store). */
export type UploadBody = Buffer | (() => Promise<NodeJS.ReadableStream | Buffer>);

export interface Reply {
	status: number;
	headers: Record<string, string>;
	body: unknown;
	/** How many times the call was sent. */
	attempts: number;
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** How many redirects one request may follow. */
const MAX_REDIRECTS = 5;

/** Where one request of a call goes, and what it carries. */
interface Hop {
	url: string;
	method: 'GET' | 'POST' | 'PUT';
	/** With the credential (the apikey header, and `key` in the body where the call has it): API origin only. */
	withCredential: boolean;
	withBody: boolean;
}

/**
 * What the node refuses to go on with in the middle of a request (a redirect it will not follow, a body over its
 * cap): not an answer, not a network failure, and not worth retrying. `hint` says what to do, when the call's
 * own hint would not fit.
 */
class Refusal extends Error {
	constructor(
		message: string,
		readonly hint?: string,
	) {
		super(message);
	}
}
/** 5xx answers whose reason says a repeat cannot help (the reference's "Common Issues"). */
const PERMANENT_REASONS = /file metadata could not be fetched/i;
/** Failures that happen before a request reaches the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const NETWORK_WORDS: Record<string, string> = {
	ECONNREFUSED: 'connection refused',
	ECONNRESET: 'connection dropped',
	EPIPE: 'connection dropped',
	ENOTFOUND: 'host not found',
	EAI_AGAIN: 'host name lookup failed',
	EHOSTUNREACH: 'host unreachable',
	ENETUNREACH: 'network unreachable',
	ERR_CANCELED: 'cancelled',
};
/** Failures (5xx, dropped connections, timeouts) one call may meet before the node gives up. */
const MAX_FAILURES = 6;
/** 429s one call may meet: the API asked to slow down, which the gate does, so these get more patience. */
const MAX_THROTTLES = 10;
/** The longest pause a 429 may ask for before the node gives up instead of waiting. */
const MAX_RETRY_AFTER_MS = 120_000;

/**
 * A rate-limit gate shared by every request of one node run. A 429 pauses them all until the time the API asked
 * for, and halves how many may be under way at once; each success lets one more through again (additive increase,
 * multiplicative decrease), until the limit is gone.
 */
export class RateGate {
	private openAt = 0;
	private limit = Infinity;
	private inFlight = 0;
	private readonly waiters: Array<() => void> = [];

	/**
	 * Waits for a turn: 'ok'; or, without one, 'cancelled' when `cancel` fires, or 'late' when the gate stays
	 * closed past `deadline` (then it fails at once instead of waiting in vain).
	 */
	async acquire(cancel?: AbortSignal, deadline?: number): Promise<'ok' | 'cancelled' | 'late'> {
		for (;;) {
			if (cancel?.aborted) return 'cancelled';
			const closedFor = this.openAt - Date.now();
			if (closedFor > 0) {
				if (deadline !== undefined && Date.now() + closedFor > deadline) return 'late';
				await pause(closedFor, cancel);
				continue;
			}
			if (this.inFlight < this.limit) {
				this.inFlight++;
				return 'ok';
			}
			await new Promise<void>((resolve) => {
				// A turn, or a cancel, whichever comes first: either way the loop looks again.
				const done = () => {
					cancel?.removeEventListener('abort', done);
					const at = this.waiters.indexOf(done);
					if (at >= 0) this.waiters.splice(at, 1);
					resolve();
				};
				this.waiters.push(done);
				cancel?.addEventListener('abort', done, { once: true });
			});
		}
	}

	release(limited: boolean): void {
		this.inFlight--;
		if (!limited && this.limit !== Infinity) {
			this.limit += 1 / this.limit;
			if (this.limit >= 32) this.limit = Infinity;
		}
		this.waiters.shift()?.();
	}

	/** A 429: pause everything for `ms`, and let fewer requests run at once. */
	slowDown(ms: number): void {
		this.openAt = Math.max(this.openAt, Date.now() + ms);
		this.limit = Math.max(1, Math.floor(Math.min(this.limit, this.inFlight + 1) / 2));
	}
}

/** The credential, checked once per run. */
export async function readCredential(n8n: IExecuteFunctions): Promise<ApiSettings> {
	const credential = await n8n.getCredentials(CREDENTIAL_TYPE);
	const apiKey = String(credential.apiKey ?? '').replace(KEY_NOISE, '');
	if (!apiKey) {
		throw new NodeOperationError(n8n.getNode(), 'The credential has no API key', {
			description: 'Open the "Undetectable AI Image Detector API" credential and paste the key from the Undetectable.AI developer portal.',
		});
	}
	const url = (name: string, value: unknown) => {
		const text = String(value ?? '').trim().replace(/\/+$/, '');
		const parsed = URL.canParse(text) ? new URL(text) : undefined;
		if (parsed?.protocol === 'http:' || parsed?.protocol === 'https:') return text;
		throw new NodeOperationError(n8n.getNode(), `The credential's ${name} "${text}" is not a valid URL`, {
			description: `Set ${name} in the credential to a full http(s) address, or clear it to use the default.`,
		});
	};
	return {
		apiKey,
		baseUrl: url('API Base URL', credential.baseUrl || DEFAULT_API_BASE_URL),
		storageBaseUrl: url('Storage Base URL', credential.storageBaseUrl || DEFAULT_STORAGE_BASE_URL),
	};
}

/** One attempt's result: an answer, a failure before there was one, or a redirect the node would not follow. */
interface Attempt {
	reply?: Reply;
	failure?: { code: string; sent: boolean };
	refusal?: Refusal;
}

/** The kinds of answer, as far as retrying is concerned. */
type Verdict = 'ok' | 'refused' | 'throttled' | 'unavailable' | 'serverError' | 'unexpected' | 'notSent' | 'dropped' | 'cancelled';

/**
 * What each kind of answer leads to: whether it is sent again (`always`: the server did not take the request;
 * `ifSafe`: only when repeating it cannot bill twice), and which budget the attempt uses up.
 */
const ON_VERDICT: Record<Exclude<Verdict, 'ok'>, { retry: 'never' | 'always' | 'ifSafe'; counts?: 'failures' | 'throttles' }> = {
	refused: { retry: 'never' },
	cancelled: { retry: 'never' },
	throttled: { retry: 'always', counts: 'throttles' },
	unavailable: { retry: 'always', counts: 'failures' },
	notSent: { retry: 'always', counts: 'failures' },
	serverError: { retry: 'ifSafe', counts: 'failures' },
	// A 2xx from the API that is not JSON (an HTML page from a proxy, an empty body): as good as a server error.
	unexpected: { retry: 'ifSafe', counts: 'failures' },
	dropped: { retry: 'ifSafe', counts: 'failures' },
};

/** Sorts one attempt into a verdict. */
function classify(call: Call, attempt: Attempt): Verdict {
	const { reply, failure } = attempt;
	if (attempt.refusal) return 'refused';
	if (failure) {
		if (failure.code === 'ERR_CANCELED') return 'cancelled';
		return failure.sent ? 'dropped' : 'notSent';
	}
	const status = (reply as Reply).status;
	const notJson = call.path !== undefined && !call.binary && (typeof (reply as Reply).body === 'string' || (reply as Reply).body === undefined);
	if (status >= 200 && status < 300 && notJson) return 'unexpected';
	if ((status >= 200 && status < 300) || call.accept?.includes(status)) return 'ok';
	if (status === 429) return 'throttled';
	if (!RETRY_STATUSES.has(status) || PERMANENT_REASONS.test(reasonFromBody((reply as Reply).body) ?? '')) return 'refused';
	return status === 503 ? 'unavailable' : 'serverError';
}

/** The one way the node talks HTTP: credentials, retries, the rate-limit gate, timeouts, error mapping. */
export class Transport {
	readonly apiOrigin: string;

	constructor(
		readonly n8n: IExecuteFunctions,
		readonly settings: ApiSettings,
		private readonly gate: RateGate,
	) {
		this.apiOrigin = new URL(settings.baseUrl).origin;
	}

	/** Whether a URL is on the API host (where the key may go) rather than storage or anywhere else. */
	isApiUrl(url: string): boolean {
		return URL.canParse(url) && new URL(url).origin === this.apiOrigin;
	}

	get secrets(): string[] {
		return [this.settings.apiKey];
	}

	/** Sends a call, and sends it again while its verdict and budgets allow; the answer, or the error a user reads. */
	async send(call: Call): Promise<Reply> {
		const cancel = this.n8n.getExecutionCancelSignal?.();
		const spent = { failures: 0, throttles: 0, waitedMs: 0 };
		for (let attemptNumber = 1; ; attemptNumber++) {
			if (call.deadline !== undefined && Date.now() >= call.deadline) throw this.lateError(call, attemptNumber === 1 ? 'before it could be sent' : 'before it could be sent again');
			const turn = await this.gate.acquire(cancel, call.deadline);
			if (turn === 'cancelled') throw this.cancelledError(call);
			if (turn === 'late') throw this.lateError(call, 'while the API asked every request to pause (HTTP 429)');
			const attempt = await this.attempt(call, attemptNumber, cancel);
			const verdict = classify(call, attempt);
			if (verdict === 'ok') return attempt.reply as Reply;
			const waitMs = this.retryWait(call, verdict, attempt, attemptNumber, spent);
			if (call.deadline !== undefined && Date.now() + waitMs >= call.deadline) throw this.lateError(call, `after ${attemptNumber} attempts, before the next one was due`);
			await pause(waitMs, cancel);
		}
	}

	/**
	 * One attempt through the rate gate (a 429 slows the gate down for every request of the run), ended after its
	 * total time, not only when the connection goes quiet: a server that trickles its answer is cut off too.
	 */
	private async attempt(call: Call, attemptNumber: number, cancel?: AbortSignal): Promise<Attempt> {
		const left = call.deadline === undefined ? Infinity : call.deadline - Date.now();
		const timer = AbortSignal.timeout(Math.max(1, Math.min(call.timeoutMs ?? timing.requestTimeoutMs, left)));
		const signal = cancel ? AbortSignal.any([cancel, timer]) : timer;
		let result: Attempt;
		try {
			result = { reply: await this.sendOnce(call, attemptNumber, signal) };
		} catch (error) {
			const blocked = ssrfBlock(error);
			if (error instanceof Refusal) result = { refusal: error };
			else if (blocked) result = { refusal: blocked };
			else if (timer.aborted && !cancel?.aborted) result = { failure: { code: 'ETIMEDOUT', sent: true } };
			else result = { failure: this.networkFailure(error) };
		}
		this.gate.release(result.reply?.status === 429);
		return result;
	}

	/** How long to wait before the next attempt, or the error that ends the call (thrown). */
	private retryWait(call: Call, verdict: Exclude<Verdict, 'ok'>, attempt: Attempt, attemptNumber: number, spent: { failures: number; throttles: number; waitedMs: number }): number {
		const rule = ON_VERDICT[verdict];
		if (rule.counts) spent[rule.counts]++;
		const { reply, failure } = attempt;
		let stillFailed = `It still failed after ${attemptNumber} attempts.`;
		const giveUp = (extra?: string) => {
			if (attempt.refusal) return this.refusalError(call, attempt.refusal);
			return reply ? this.error(call, reply, extra) : this.networkError(call, failure?.code ?? 'ECONNRESET', extra, failure?.sent === true && call.retry === 'beforeAccepted');
		};

		if (verdict === 'cancelled') throw this.cancelledError(call);
		if (rule.retry === 'never') throw giveUp();
		if (verdict === 'unexpected') stillFailed = `The API answered with something that is not JSON (a proxy's page?). ${stillFailed}`;
		const repeatable = rule.retry === 'always' || call.retry === 'safe';
		const withinBudget = spent.failures < MAX_FAILURES && spent.throttles < MAX_THROTTLES;
		if (!repeatable || !withinBudget) throw giveUp(reply || attemptNumber > 1 ? stillFailed : undefined);

		let waitMs = backoff(attemptNumber);
		if (verdict === 'throttled') {
			const askedMs = retryAfterMs(reply?.headers['retry-after']) ?? waitMs;
			if (askedMs > MAX_RETRY_AFTER_MS) {
				throw giveUp(`The API asked to wait ${Math.round(askedMs / 1000)} s before the next request, longer than the node waits.`);
			}
			// The pause is the account's: every request of the run keeps it, even when this item cannot wait that long.
			this.gate.slowDown(askedMs);
			if (call.deadline !== undefined && Date.now() + askedMs > call.deadline) {
				throw giveUp(`The API asked to wait ${Math.round(askedMs / 1000)} s before the next request, past the time this item has (its Timeout option).`);
			}
			waitMs = 0; // the gate holds this and every other request of the run
		}
		spent.waitedMs += waitMs;
		if (spent.waitedMs > timing.retryBudgetMs) throw giveUp(stillFailed);
		return waitMs;
	}

	/** Turns an answer the caller does not accept into the error a user reads. */
	error(call: Call, reply: Reply, extra?: string) {
		// A file endpoint's error page is bytes: read it as text when it says it is text (storage answers in XML).
		const textual = /xml|text|json/.test(reply.headers['content-type'] ?? '');
		const body = Buffer.isBuffer(reply.body) ? (textual ? reply.body.toString('utf8', 0, 4096) : undefined) : reply.body;
		const reason = call.untrusted ? undefined : reasonFromBody(body);
		const answerer = call.answerer ?? (call.path !== undefined ? 'api' : 'asset');
		return apiError(this.n8n.getNode(), {
			purpose: call.purpose,
			status: reply.status,
			reason,
			hint: answerer === 'api' ? undefined : call.untrusted ? hintForModel(hostOf(call.url), reply.status) : hintForHost(answerer, hostOf(call.url), reply.status),
			extra,
			itemIndex: call.itemIndex,
			secrets: this.secrets,
		});
	}

	/**
	 * One attempt, following redirects itself (no request follows one on its own): at most MAX_REDIRECTS, no loops,
	 * http(s) only. The credential goes to the API's origin and nowhere else: a redirect elsewhere is refused, but
	 * for a heatmap or preview, which is then fetched there with a plain GET and no key of any kind.
	 */
	private async sendOnce(call: Call, attempt: number, signal: AbortSignal): Promise<Reply> {
		const toApi = call.path !== undefined;
		let hop: Hop = {
			url: toApi ? `${this.settings.baseUrl.replace(/\/+$/, '')}${call.path}` : (call.url as string),
			method: call.method,
			withCredential: toApi,
			withBody: true,
		};
		const visited = new Set<string>();
		for (;;) {
			if (call.untrusted && !call.untrusted.allowPrivate) refuseNonPublic(hop.url);
			const reply = await this.request(call, hop, attempt, visited.size === 0, signal);
			if (!REDIRECT_STATUSES.has(reply.status) || call.accept?.includes(reply.status)) return reply;
			visited.add(hop.url);
			hop = this.nextHop(call, hop, reply, visited);
		}
	}

	private nextHop(call: Call, from: Hop, reply: Reply, visited: Set<string>): Hop {
		const location = reply.headers.location;
		const next = location && URL.canParse(location, from.url) ? new URL(location, from.url) : undefined;
		if (!next) throw new Refusal(`the server answered with a redirect (HTTP ${reply.status}) to no valid address`);
		if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Refusal(`the server redirected to a ${next.protocol} address, which the node does not follow`);
		if (visited.has(next.href) || visited.size > MAX_REDIRECTS) throw new Refusal(`the server redirected more than ${MAX_REDIRECTS} times (a redirect loop?)`);
		let withCredential = from.withCredential;
		if (withCredential && next.origin !== this.apiOrigin) {
			if (!call.redirectWithoutKey) {
				throw new Refusal(`the API redirected to ${next.host}, another host: the request was not sent there, so the API key stayed with the API`);
			}
			withCredential = false;
		}
		// 303, and 301/302 after anything but GET, turn into a GET without a body (as browsers do); so does leaving the API.
		const asGet = reply.status === 303 || ((reply.status === 301 || reply.status === 302) && from.method !== 'GET') || withCredential !== from.withCredential;
		return { url: next.href, method: asGet ? 'GET' : from.method, withCredential, withBody: from.withBody && !asGet };
	}

	/** One HTTP request of a hop, through n8n's helpers: with the credential on the API's origin, plain elsewhere. */
	private async request(call: Call, hop: Hop, attempt: number, first: boolean, signal: AbortSignal): Promise<Reply> {
		const options: IHttpRequestOptions = {
			method: hop.method,
			url: hop.url,
			qs: first ? call.qs : undefined,
			headers: { ...call.headers },
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			disableFollowRedirect: true,
			timeout: call.timeoutMs ?? timing.requestTimeoutMs,
			abortSignal: signal,
		};
		if (call.cap) options.encoding = 'stream';
		else if (call.binary) options.encoding = 'arraybuffer';
		else options.json = true;
		if (hop.withBody && call.json) {
			options.body = call.withKey && hop.withCredential ? { key: this.settings.apiKey, ...call.json } : call.json;
		} else if (hop.withBody && call.body) {
			options.body = Buffer.isBuffer(call.body) ? call.body : await call.body();
		}
		if (!hop.withBody && options.headers) delete options.headers['Content-Type'];
		// The key as the credential's `authenticate` places it (the apikey header), set here rather than through
		// httpRequestWithAuthentication, which replaces the request's abort signal with the execution's own: the
		// signal that ends an attempt after its total time would never reach requests to the API.
		if (hop.withCredential) options.headers = { ...options.headers, apikey: this.settings.apiKey };
		const res = (await this.n8n.helpers.httpRequest(options)) as { statusCode: number; headers: Record<string, string>; body: unknown };
		const headers = lowerCaseKeys(res.headers);
		const raw = call.cap ? await readCapped(res.body as NodeJS.ReadableStream, headers, call.cap, REDIRECT_STATUSES.has(res.statusCode)) : res.body;
		return { status: res.statusCode, headers, body: decodeBody(call, raw, headers), attempts: attempt };
	}

	/** The item's time ran out in the middle of a call. */
	private lateError(call: Call, when: string) {
		return apiError(this.n8n.getNode(), {
			purpose: call.purpose,
			reason: `the time this item has ran out ${when}`,
			hint: 'Raise the Timeout (Seconds) option (Check Credits has a fixed 120 s), or run it again when the service answers faster.',
			itemIndex: call.itemIndex,
			secrets: this.secrets,
		});
	}

	/** Stopped by the user: said plainly, with no hint about networks or keys. */
	private cancelledError(call: Call) {
		return new NodeOperationError(this.n8n.getNode(), 'The execution was cancelled', {
			itemIndex: call.itemIndex,
			description: `It stopped while ${call.purpose}; nothing more is sent for this item.`,
		});
	}

	private refusalError(call: Call, refusal: Refusal) {
		const hint =
			refusal.hint ??
			(call.path !== undefined
				? 'Check the API Base URL in the credential: it should be the address the API answers at itself, not one that forwards elsewhere.'
				: `Check that ${hostOf(call.url)} serves the file at that address itself.`);
		return apiError(this.n8n.getNode(), { purpose: call.purpose, reason: refusal.message, hint, itemIndex: call.itemIndex, secrets: this.secrets });
	}

	private networkFailure(error: unknown): { code: string; sent: boolean } {
		// httpRequest throws the network error as it is; some n8n versions wrap it in a NodeApiError that keeps the
		// code in `httpCode`: read it from there too.
		const e = error as { code?: unknown; httpCode?: unknown; cause?: { code?: unknown; name?: string }; name?: string };
		const asCode = (v: unknown) => (typeof v === 'string' && /^E[A-Z_]+$/.test(v) ? v : undefined);
		const named = [e?.name, e?.cause?.name].some((n) => n === 'AbortError' || n === 'CanceledError') ? 'ERR_CANCELED' : undefined;
		const code = asCode(e?.code) ?? asCode(e?.cause?.code) ?? asCode(e?.httpCode) ?? named ?? 'ECONNRESET';
		return { code, sent: !NOT_SENT_CODES.has(code) };
	}

	private networkError(call: Call, code: string, extra?: string, ambiguous = false) {
		const where = call.path !== undefined ? 'the Undetectable AI API' : hostOf(call.url);
		// In words, not codes: n8n replaces any message that holds a code like ECONNRESET with a generic text.
		const reason = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? `no answer from ${where} in time` : `the connection to ${where} failed (${NETWORK_WORDS[code] ?? 'network error'})`;
		const hint = ambiguous
			? 'The request may have reached the service before the connection dropped, so the node did not send it again (that could bill the same images twice). Check the credits with Check Credits and your recent results before running it again.'
			: call.path !== undefined
				? `Check the network and the API Base URL in the credential. ${hintFor(503, undefined)}`
				: `Check that ${where} is reachable from n8n.`;
		return apiError(this.n8n.getNode(), { purpose: call.purpose, reason, hint, extra, itemIndex: call.itemIndex, secrets: this.secrets });
	}
}

/**
 * A download's body, read no further than its cap: a larger declared length is refused before reading, and the
 * stream is dropped as soon as it passes the cap, whatever the server sends.
 */
async function readCapped(stream: NodeJS.ReadableStream, headers: Record<string, string>, cap: { maxBytes: number; tooLarge: string }, discard: boolean): Promise<Buffer> {
	const tooLarge = (size: string) => new Refusal(`the file is larger than ${formatMb(cap.maxBytes)}${size}`, cap.tooLarge);
	const declared = Number(headers['content-length']);
	const chunks: Buffer[] = [];
	let total = 0;
	if (Number.isFinite(declared) && declared > cap.maxBytes) {
		(stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
		throw tooLarge(` (the server says ${formatMb(declared)})`);
	}
	for await (const piece of stream) {
		const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
		total += chunk.length;
		if (total > cap.maxBytes) throw tooLarge(''); // leaving the loop destroys the stream
		if (!discard) chunks.push(chunk);
	}
	return Buffer.concat(chunks);
}

function formatMb(bytes: number): string {
	return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 1)} MB`;
}

/** Endpoints that serve files answer errors and "not ready" in JSON: those are handed back parsed. */
function decodeBody(call: Call, raw: unknown, headers: Record<string, string>): unknown {
	let body = raw;
	if (call.binary && body !== undefined && !Buffer.isBuffer(body)) body = Buffer.from(body as ArrayBuffer);
	const isJson = /json/.test(headers['content-type'] ?? '');
	if (isJson && (Buffer.isBuffer(body) || typeof body === 'string')) {
		const text = body.toString();
		// Not JSON after all: keep the text, it still says what went wrong.
		return text.trim() ? jsonParse<unknown>(text, { fallbackValue: text }) : null;
	}
	return Buffer.isBuffer(body) && !call.binary ? body.toString() : body;
}

/**
 * n8n's own SSRF protection (n8n 2.41+, N8N_SSRF_PROTECTION_ENABLED) refusing a request inside its HTTP helper:
 * the administrator's rule, said as such and never retried.
 */
function ssrfBlock(error: unknown): Refusal | undefined {
	for (let e = error as { name?: string; message?: string; description?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
		if (e.name === 'SsrfBlockedIpError' || e.name === 'SsrfBlockedHostnameError') {
			return new Refusal(
				`n8n's SSRF protection blocked it (${e.message ?? 'restricted address'})`,
				"This n8n instance refuses requests to internal addresses (N8N_SSRF_PROTECTION_ENABLED). Use a public address, or ask the n8n administrator to allow this host (N8N_SSRF_ALLOWED_HOSTNAMES or N8N_SSRF_ALLOWED_IP_RANGES).",
			);
		}
	}
	return undefined;
}

/** A hop to an address that is not on the public internet, refused before it is sent (see helpers/addresses). */
function refuseNonPublic(url: string): void {
	const why = URL.canParse(url) ? nonPublicReason(new URL(url)) : 'no valid address';
	if (!why) return;
	throw new Refusal(
		`${hostOf(url)} is ${why}, which an AI tool may not fetch: nothing was sent there`,
		'Addresses on n8n\'s own network are refused when an AI model supplies them. If the image really is on your network, turn on "Allow Private Network Addresses" for this tool.',
	);
}

function hostOf(url: string | undefined): string {
	try {
		return new URL(url as string).host;
	} catch {
		return 'the server';
	}
}

function lowerCaseKeys(h: Record<string, unknown> | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = String(v);
	return out;
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
function retryAfterMs(value: string | undefined): number | undefined {
	if (!value) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const at = Date.parse(value);
	return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Exponential backoff with jitter: about 0.5 s, 1 s, 2 s, 4 s, 8 s (each 50–100 % of that). */
function backoff(attempt: number): number {
	const ceiling = Math.min(timing.backoffMaxMs, timing.backoffBaseMs * 2 ** (attempt - 1));
	return Math.round(ceiling * (0.5 + Math.random() / 2));
}
