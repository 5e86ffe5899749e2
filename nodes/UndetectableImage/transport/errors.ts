import type { IDataObject, IExecuteFunctions, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/** What a request was for, in the user's words: "requesting an upload URL", "submitting the image", ... */
export type Purpose = string;

const CREDENTIAL = "the 'Undetectable AI Image Detector API' credential";

/**
 * The fix for each reason the reference's error table and "Common Issues" name. Matched against the API's own
 * `detail`, case-insensitively, first match wins.
 */
const KNOWN_REASONS: Array<[RegExp, string]> = [
	[/user verification failed/i, `The API key was refused. Check the API key in ${CREDENTIAL}: it may be mistyped, inactive or regenerated in the developer portal.`],
	[/not enough credits/i, 'Your account has too few credits for this request. Buy more credits, or check the balance with the Check Credits operation.'],
	[/access denied/i, `This document belongs to another account. Use the credential of the account that submitted it, or check the document ID.`],
	[/input url cannot be empty/i, 'The image was not uploaded before detection. Run the node again; if it keeps failing, check the Storage Base URL in the credential.'],
	[/input email is empty/i, "Document type 'URL' needs an email address: set the Email option."],
	[/unsupported image type/i, 'Use JPG, PNG, WebP, JFIF, HEIC, HEIF, AVIF, BMP, TIFF, GIF, SVG or PDF, with the matching file extension.'],
	[/file size is too small/i, 'Each image must be at least 1 KB. Use a larger image, or check that the file was not truncated.'],
	[/file size exceeds/i, 'Compress or resize the image: the message states the limit of this deployment (10 MB by default).'],
	[/invalid file type/i, "The file's bytes do not match its extension. Check the file is not corrupted and that its name has the right extension."],
	[/file metadata could not be fetched/i, 'The uploaded file could not be read by the service. Run the node again; if it keeps failing, check the Storage Base URL in the credential.'],
	[/must point to a zip/i, 'Bulk Detect needs a ZIP file. Check that the binary property holds a .zip file.'],
	[/zip file too large/i, 'A ZIP may be at most 100 MB. Split the images into several ZIPs, or use Bulk Source "Images From Items", which splits for you.'],
	[/too many files/i, 'A ZIP may hold at most 50 images. Split it, or use Bulk Source "Images From Items", which splits for you.'],
	[/no valid images found/i, 'Every file in the ZIP was skipped. Use supported formats between 1 KB and 10 MB (no PDF, no hidden files, no ".." in paths).'],
	[/not a bulk upload/i, 'This ID belongs to a single image, not a ZIP batch (or the other way round). Use the ID from the same kind of request.'],
	[/already exists/i, 'A document with this ID exists already. Leave the Document ID option empty to let the node create a new one.'],
	[/invalid instance_id/i, 'The Model option names an unknown dedicated instance. Use "generic", "sheerid" or "<your-instance-id>/generic".'],
	[/invalid model/i, 'Use the Model "generic" or "sheerid", or "<your-instance-id>/generic" for a dedicated instance.'],
];

const STATUS_HINTS: Record<number, string> = {
	400: 'The request was invalid. Check the node parameters.',
	401: `Authentication failed. Check the API key in ${CREDENTIAL}.`,
	403: `The API key is invalid, access was denied, or there are not enough credits. Check ${CREDENTIAL} and your balance.`,
	404: 'Not found. Check the document ID, and the API Base URL in the credential.',
	405: 'The API refused the method. Check the API Base URL in the credential points at the AI Image Detector API.',
	406: 'The API could not answer in JSON. Check the API Base URL in the credential.',
	410: 'This API endpoint has been removed. Update the node to a newer version.',
	422: 'The API rejected the request body. Check the node options.',
	429: 'The API is rate limiting this account. Lower the Concurrency option, or run the workflow again later.',
	500: 'The service had an internal error. Try again later.',
	502: 'The service is unreachable behind its gateway. Try again later.',
	503: 'The service is temporarily offline for maintenance. Try again later.',
	504: 'The service timed out. Try again later.',
};

/** Replaces every secret in a text by "***", so no key reaches an error, a log line or an output item. */
export function redact(text: string, secrets: string[]): string {
	let out = text;
	for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('***');
	return out;
}

/** The API's own reason from an error body: FastAPI's `detail` (a string, or a list of field errors), or `message`. */
export function reasonFromBody(body: unknown): string | undefined {
	if (body === null || body === undefined) return undefined;
	if (typeof body === 'string') {
		// Object storage (S3, Spaces) answers in XML: its own code says most (SignatureDoesNotMatch, AccessDenied).
		const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
		const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
		if (code || message) return [code, message].filter(Boolean).join(': ');
		return body.trim().slice(0, 300) || undefined;
	}
	if (typeof body !== 'object') return String(body);
	const o = body as Record<string, unknown>;
	const detail = o.detail;
	if (typeof detail === 'string') return detail;
	if (Array.isArray(detail)) {
		return detail
			.map((d) => {
				const e = d as { loc?: unknown[]; msg?: string };
				const where = Array.isArray(e.loc) ? e.loc.filter((l) => l !== 'body').join('.') : '';
				return where ? `${where}: ${e.msg ?? 'invalid'}` : (e.msg ?? 'invalid');
			})
			.join('; ');
	}
	if (typeof o.message === 'string') return o.message;
	if (typeof o.error_message === 'string') return o.error_message;
	return undefined;
}

/** Which host answered a call: the API, storage taking an upload, storage serving a file, or an image's website. */
export type Answerer = 'api' | 'upload' | 'asset' | 'imageUrl';

/** The fix for an answer from a host that is not the API: about that host and address, never the key or credits. */
export function hintForHost(answerer: Exclude<Answerer, 'api'>, host: string, status: number | undefined): string {
	const server = status !== undefined && status >= 500;
	if (answerer === 'upload') {
		if (server) return 'Storage had an error taking the upload. Run the node again later.';
		return 'Storage refused the upload: its upload address may have expired or been changed on the way. Run the node again; if it keeps failing, check the Storage Base URL in the credential.';
	}
	if (answerer === 'asset') {
		if (server) return `${host} had an error serving the file. Try again later.`;
		return `${host} no longer serves the file at that address. Fetch the document again with Get Result, then download the file from its new address.`;
	}
	if (server) return `${host} had an error serving the image. Try again later, or download it another way and use Input Source "Binary File".`;
	if (status === 401 || status === 403) {
		return `${host} refused to serve the image (it needs a login, or blocks downloads). Download it with an HTTP Request node that has the right credentials, then use Input Source "Binary File".`;
	}
	if (status === 404 || status === 410) return `${host} has no file at that address: check the Image URL.`;
	return `Check the Image URL: ${host} did not serve the image.`;
}

/** The same, for an AI model that chose the image's address (tool mode): in the words of its own arguments. */
export function hintForModel(host: string, status: number | undefined): string {
	if (status !== undefined && status >= 500) return `${host} had an error serving the image. Try again later, or ask the user for another address of the image.`;
	if (status === 401 || status === 403) return `${host} refused to serve the image (it needs a login, or blocks downloads). Ask the user for a public address of the image file.`;
	if (status === 404 || status === 410) return `${host} has no file at that address. Pass the address of the image file itself as imageUrl (not a page that shows it), or ask the user for it.`;
	return `${host} did not serve the image. Pass the address of the image file itself as imageUrl, or ask the user for it.`;
}

export function hintFor(status: number | undefined, reason: string | undefined): string {
	if (reason) {
		const known = KNOWN_REASONS.find(([re]) => re.test(reason));
		if (known) return known[1];
	}
	if (status && STATUS_HINTS[status]) return STATUS_HINTS[status];
	if (status && status >= 500) return STATUS_HINTS[500];
	return 'Check the node parameters and the credential.';
}

export interface ApiErrorInput {
	purpose: Purpose;
	status?: number;
	reason?: string;
	hint?: string;
	/** Extra sentences after the hint (the balance, the document id, ...). */
	extra?: string;
	itemIndex?: number;
	secrets: string[];
}

/**
 * An error a user can act on: the message says what failed and the API's reason, the description how to fix it.
 * Built from plain strings only, so no request options, headers or bodies (and no key) ride along.
 */
export function apiError(node: INode, e: ApiErrorInput): NodeApiError {
	const reason = e.reason ? redact(e.reason, e.secrets) : undefined;
	const status = e.status ? ` (HTTP ${e.status})` : '';
	const message = reason ? `${capitalise(e.purpose)} failed: ${reason}${status}` : `${capitalise(e.purpose)} failed${status}`;
	const description = redact([e.hint ?? hintFor(e.status, reason), e.extra].filter(Boolean).join(' '), e.secrets);
	const response: JsonObject = { message, description };
	if (e.status) response.httpCode = String(e.status);
	return new NodeApiError(node, response, {
		message,
		description,
		httpCode: e.status ? String(e.status) : undefined,
		itemIndex: e.itemIndex,
	});
}

function capitalise(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A bad input: what is wrong, and how to fix it. Found before anything is sent, so it costs no credit. */
export class InputProblem extends Error {
	/** What it was about (the file and its field), handed on to the error a user reads. */
	readonly context: IDataObject = {};

	constructor(
		message: string,
		readonly fix: string,
	) {
		super(message);
	}
}

/** Which file an error is about: its name as the user knows it, and its binary field. */
export interface FileLabel {
	fileName?: string;
	binaryField?: string;
}


/**
 * The error for an item, as n8n shows it: what is wrong, how to fix it, which item; with every secret masked,
 * whatever text it came from (an API answer, or a key pasted into a parameter).
 */
export function itemError(n8n: IExecuteFunctions, error: unknown, itemIndex: number, secrets: string[] = []): NodeApiError | NodeOperationError {
	let out: NodeApiError | NodeOperationError;
	if (error instanceof InputProblem) {
		out = new NodeOperationError(n8n.getNode(), redact(error.message, secrets), { itemIndex, description: redact(error.fix, secrets) });
		Object.assign(out.context, error.context);
	} else if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		out = error;
		if (out.context.itemIndex === undefined) out.context.itemIndex = itemIndex;
	} else {
		out = new NodeOperationError(n8n.getNode(), error as Error, { itemIndex });
	}
	out.message = redact(out.message, secrets);
	if (out.description) out.description = redact(out.description, secrets);
	return out;
}

/** A copy of output JSON with every secret masked in every string (an API answer may echo what it was sent). */
export function redactJson<T>(value: T, secrets: string[]): T {
	if (typeof value === 'string') return redact(value, secrets) as T;
	if (Array.isArray(value)) return value.map((v) => redactJson(v, secrets)) as T;
	if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k, secrets), redactJson(v, secrets)])) as T;
	}
	return value;
}

/** An error about a document or a bulk batch: keeps its ID, so Continue On Fail can hand it on. */
export function documentError(
	n8n: IExecuteFunctions,
	message: string,
	description: string,
	ids: { documentId?: string; batchId?: string },
	itemIndex?: number,
): NodeOperationError {
	const error = new NodeOperationError(n8n.getNode(), message, { itemIndex, description });
	if (ids.documentId) error.context.documentId = ids.documentId;
	if (ids.batchId) error.context.batchId = ids.batchId;
	return error;
}

export function notFound(n8n: IExecuteFunctions, id: string, itemIndex?: number): NodeOperationError {
	return documentError(
		n8n,
		`No document with ID ${id} was found`,
		'Check the ID: it must come from a Detect or Bulk Detect run with the same API account. Results may also have expired.',
		{ documentId: id },
		itemIndex,
	);
}

/** A document the service could not analyze. */
export function failedDetection(n8n: IExecuteFunctions, id: string, reason: string, itemIndex?: number): NodeApiError {
	const message = `Detection failed: ${reason}`;
	const error = new NodeApiError(
		n8n.getNode(),
		{ message },
		{
			message,
			description:
				'The service could not analyze this image. Check that it is a valid, uncorrupted image in a supported format between 1 KB and 10 MB; contact Undetectable.AI support if it keeps failing.',
			itemIndex,
		},
	);
	error.context.documentId = id;
	return error;
}

/**
 * Runs what follows a submission: any error from it names the document or batch, says it may be billed, and says
 * how to fetch it, both in its description and (for Continue On Fail items) as `id` / `batchId`.
 */
export async function afterSubmission<T>(n8n: IExecuteFunctions, ids: { documentId?: string; batchId?: string }, work: () => Promise<T>): Promise<T> {
	try {
		return await work();
	} catch (error) {
		throw noteSubmission(error instanceof NodeApiError || error instanceof NodeOperationError ? error : new NodeOperationError(n8n.getNode(), error as Error), ids);
	}
}

function noteSubmission(error: NodeApiError | NodeOperationError, ids: { documentId?: string; batchId?: string }) {
	const id = (ids.batchId ?? ids.documentId) as string;
	if (ids.documentId && !error.context.documentId) error.context.documentId = ids.documentId;
	if (ids.batchId) error.context.batchId = ids.batchId;
	if (!`${error.message} ${error.description ?? ''}`.includes(id)) {
		const what = ids.batchId ? `Bulk batch ${id}` : `Document ${id}`;
		error.description = [error.description, `${what} was submitted and may be billed: fetch it with Get Result and Document ID ${id} rather than submitting it again.`]
			.filter(Boolean)
			.join(' ');
	}
	return error;
}

/**
 * Runs work about a document the user named (Get Result): any error from it names that document, in its
 * description and (for Continue On Fail items) as `id`.
 */
export async function aboutDocument<T>(n8n: IExecuteFunctions, documentId: string, work: () => Promise<T>): Promise<T> {
	try {
		return await work();
	} catch (error) {
		const e = error instanceof NodeApiError || error instanceof NodeOperationError ? error : new NodeOperationError(n8n.getNode(), error as Error);
		if (!e.context.documentId) e.context.documentId = documentId;
		if (!`${e.message} ${e.description ?? ''}`.includes(documentId)) e.description = [e.description, `Document ID: ${documentId}.`].filter(Boolean).join(' ');
		throw e;
	}
}
