// The API's central shape, each part written once: presign -> PUT to storage -> submit; then wait with /query for
// the result (and the heatmap and analysis, which come later); and fetch a heatmap or preview file.
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { OperationContext } from '../actions/operation';
import { sniffExtension } from '../helpers/files';
import { pause } from '../helpers/pause';
import { timing } from '../transport/timing';
import { afterSubmission, documentError, failedDetection, InputProblem, notFound } from '../transport/errors';
import type { Scope, UploadBody } from '../transport/transport';
import type { AssetKind, AssetReply, ImageDetectorApi } from './client';
import { analysisStatusOf, bulkCounts, failureReason, heatmapStatusOf, isBulk, isFinal } from './output';
import type { QueryAnswer } from './poller';

export interface ImageUpload {
	bytes: Buffer;
	fileName: string;
	contentType: string;
}

export interface ZipUpload {
	/** The ZIP in memory, or opened as a stream from n8n's binary data store for each attempt. */
	body: UploadBody;
	size: number;
	fileName: string;
	imageCount: number;
}

/**
 * One image: presign, PUT, /detect. Pass the upload straight in (`submitImage(api, await load(), ...)`): the bytes
 * are released when this returns, before the wait for the result.
 */
export async function submitImage(
	api: ImageDetectorApi,
	image: ImageUpload,
	body: IDataObject,
	scope: Scope,
	document: { documentId: string; nodeMadeId: boolean },
): Promise<{ id: string; submittedAt: number }> {
	const { presignedUrl, filePath } = await api.presign(image.fileName, scope);
	await api.upload(presignedUrl, image.bytes, image.bytes.length, image.contentType, scope);
	const submittedAt = Date.now();
	// The ID is known before /detect is sent, so even a submission whose answer was lost names its document.
	const { documentId, nodeMadeId } = document;
	const id = await afterSubmission(api.transport.n8n, { documentId }, async () => await api.detect({ ...body, url: api.storageUrl(filePath), id: documentId }, nodeMadeId, scope));
	return { id, submittedAt };
}

/** A ZIP of up to 50 images: presign, PUT, /bulk-upload. As with submitImage, the bytes are released on return. */
export async function submitZip(
	api: ImageDetectorApi,
	zip: ZipUpload,
	body: IDataObject,
	scope: Scope,
): Promise<{ batchId: string; expectedCount?: number; submittedAt: number }> {
	const { presignedUrl, filePath } = await api.presign(zip.fileName, scope);
	await api.upload(presignedUrl, zip.body, zip.size, 'application/zip', scope);
	const submittedAt = Date.now();
	const batch = await api.bulkUpload({ ...body, url: api.storageUrl(filePath) }, zip.imageCount, scope);
	return { batchId: batch.id, expectedCount: batch.expectedCount, submittedAt };
}

export interface WaitSettings {
	/** When to give up (ms since the epoch), and the option it came from, for the message. */
	deadline: number;
	timeoutSeconds: number;
	/** When this run submitted the document; unset for an ID from elsewhere (see Watch.submittedAt). */
	submittedAt?: number;
	/** For an ID from elsewhere: ask at once rather than after one interval. */
	immediate?: boolean;
	waitForHeatmap?: boolean;
	waitForAnalysis?: boolean;
	/** At the deadline, a done image whose analysis alone is missing is the answer (not a time-out). */
	analysisOptional?: boolean;
	itemIndex?: number;
	/** The document's name in messages. */
	label?: string;
}

const stillMaking = (status: string | null) => status === 'pending' || status === 'analyzing';

/**
 * Waits for one image (or whatever the ID is) until it is done or failed and, when asked, its heatmap and
 * analysis are made: one wait, whose usual length is learned as a whole, so no query is spent in between. A bulk
 * batch or a failed document is returned as it is; an unknown ID or the deadline is an error.
 */
export async function waitForImage(context: OperationContext, id: string, settings: WaitSettings): Promise<IDataObject> {
	const phase = settings.waitForAnalysis ? 'result+analysis' : settings.waitForHeatmap ? 'result+heatmap' : 'result';
	const outcome = await context.poller.wait({
		id,
		phase,
		isFinished: (a) => a === null || isComplete(a, settings),
		deadline: settings.deadline,
		submittedAt: settings.submittedAt,
		immediate: settings.immediate,
		itemIndex: settings.itemIndex,
	});
	if (outcome.answer === null) throw notFound(context.n8n, id, settings.itemIndex);
	if (outcome.timedOut && !(settings.analysisOptional && isComplete(outcome.answer, { ...settings, waitForAnalysis: false }))) {
		throw timedOut(context.n8n, id, outcome.answer, settings);
	}
	return outcome.answer;
}

/** Whether a done image's analysis is still being written. */
export const analysisPending = (answer: IDataObject) => answer.status === 'done' && !isBulk(answer) && stillMaking(analysisStatusOf(answer));

/**
 * Whether an answer is all a wait asks for: final and, for a done image, with the heatmap and analysis asked for.
 * A bulk batch has no heatmap or analysis of its own; nor has a failed image.
 */
export function isComplete(answer: IDataObject, settings: Pick<WaitSettings, 'waitForHeatmap' | 'waitForAnalysis'>): boolean {
	if (!isFinal(answer.status)) return false;
	if (answer.status === 'failed' || isBulk(answer)) return true;
	if (settings.waitForHeatmap === true && heatmapStatusOf(answer) === 'pending') return false;
	return !(settings.waitForAnalysis === true && stillMaking(analysisStatusOf(answer)));
}

function timedOut(n8n: IExecuteFunctions, id: string, answer: IDataObject, settings: WaitSettings) {
	const what = !isFinal(answer.status) ? 'the result' : settings.waitForAnalysis && stillMaking(analysisStatusOf(answer)) ? 'its analysis' : 'its heatmap';
	const label = settings.label ? ` of "${settings.label}"` : '';
	return documentError(
		n8n,
		`Timed out after ${settings.timeoutSeconds} s waiting for ${what}${label} (document ${id})`,
		`Raise the "Timeout (Seconds)" option (now ${settings.timeoutSeconds}), or fetch it later with the Get Result operation and Document ID ${id}.`,
		{ documentId: id },
		settings.itemIndex,
	);
}

export interface BatchWaitSettings {
	deadline: number;
	timeoutSeconds: number;
	submittedAt: number;
	/** On timeout, return the batch as it is (the rest "pending") rather than fail. */
	partial: boolean;
	expectedCount?: number;
	itemIndex?: number;
}

/** Waits for a bulk batch; on timeout, its partial answer (`partial`) or an error that says how far it got. */
export async function waitForBatch(context: OperationContext, batchId: string, settings: BatchWaitSettings): Promise<IDataObject> {
	const { n8n, poller } = context;
	const outcome = await poller.wait({
		id: batchId,
		phase: 'bulk',
		isFinished: (a) => a === null || isFinal(a.status),
		deadline: settings.deadline,
		submittedAt: settings.submittedAt,
		itemIndex: settings.itemIndex,
	});
	const answer = outcome.answer;
	const ids = { batchId, documentId: batchId };
	if (answer === null) {
		throw documentError(n8n, `Bulk batch ${batchId} was not found`, 'The service did not keep the batch it accepted. Run the node again.', ids, settings.itemIndex);
	}
	if (outcome.timedOut && !settings.partial) {
		const counts = bulkCounts(answer, settings.expectedCount);
		throw documentError(
			n8n,
			`Timed out after ${settings.timeoutSeconds} s waiting for bulk batch ${batchId}: ${counts.done + counts.failed} of ${counts.expectedCount} images finished`,
			`Raise the "Timeout (Seconds)" option (now ${settings.timeoutSeconds}), turn on "Return Partial Results on Timeout", or fetch the batch later with Get Result and Document ID ${batchId}.`,
			ids,
			settings.itemIndex,
		);
	}
	if (answer.status === 'failed') {
		throw documentError(n8n, `Bulk batch ${batchId} failed`, 'The service could not complete this batch. Check the images, then run the node again.', ids, settings.itemIndex);
	}
	return answer;
}

/** A heatmap or preview: the file, or why the document has none (not an error: the verdict stands without it). */
export type AssetResult =
	| { found: true; bytes: Buffer; mimeType: string; fileName: string; heatmapStatus: string | null }
	| { found: false; reason: string; hint: string };

const EXT_BY_MIME: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };
const IMAGE_KINDS = new Set(['png', 'jpg', 'webp', 'gif', 'bmp', 'tiff', 'avif', 'heic', 'svg']);

const NO_ASSET_HINT: Record<AssetKind, string> = {
	heatmap: 'The heatmap is optional and sometimes cannot be made for an image. The score and verdict are still valid.',
	preview: 'A preview is made only when the image is submitted with "Generate Preview" on. Detect the image again with it on.',
};

/**
 * A document's heatmap or preview: waits (within the deadline) for the result and, for a heatmap, until it is
 * made; then fetches it from storage or, for secure URLs, from the API. `known` is a /query answer in hand. With
 * `failedDownloadIsNone` (Detect, whose verdict is billed and must not be lost), a download that fails (an HTTP
 * error after retries, a timeout, a body over its cap) is a reason there is no file; a cancel still stops.
 * `namedAfter`: the name of the image it belongs to, for the file's name.
 */
export async function fetchAsset(
	context: OperationContext,
	kind: AssetKind,
	id: string,
	settings: WaitSettings,
	known?: IDataObject,
	failedDownloadIsNone = false,
	namedAfter?: string,
): Promise<AssetResult> {
	const { n8n, api } = context;
	const scope = { itemIndex: settings.itemIndex, deadline: settings.deadline };
	let answer: QueryAnswer = known ?? (await api.query(id, scope));
	if (answer === null) throw notFound(n8n, id, settings.itemIndex);
	const none = (why: string): AssetResult => ({ found: false, reason: `Document ${id} has no ${kind}: ${why}`, hint: NO_ASSET_HINT[kind] });
	let retryMs = timing.assetRetryMs;
	for (;;) {
		if (isBulk(answer)) {
			throw new InputProblem(
				`Document ${id} is a bulk batch, which has no single ${kind}`,
				`Use the "id" of each image from the Bulk Detect output (one item per image) instead of the batch ID.`,
			);
		}
		const mustWait = !isFinal(answer.status) || (kind === 'heatmap' && heatmapStatusOf(answer) === 'pending');
		// Not a wait for a fresh submission (an old ID, or a retry after a 202): nothing to learn from it.
		if (mustWait) answer = await waitForImage(context, id, { ...settings, submittedAt: undefined, waitForHeatmap: kind === 'heatmap', immediate: false });
		if (answer.status === 'failed') throw failedDetection(n8n, id, failureReason(answer), settings.itemIndex);

		const heatmapStatus = heatmapStatusOf(answer);
		const details = (answer.result_details ?? {}) as IDataObject;
		const url = (kind === 'heatmap' ? details.heatmap_url : answer.preview_url) as string | null | undefined;
		if (!url) return none(kind === 'heatmap' ? `heatmap_status is "${heatmapStatus ?? 'absent'}"` : 'no preview URL');
		if (!isWebAddress(url)) return none(`the API gave "${url.slice(0, 100)}" as its address, which is not a web address`);

		const reply = await downloadAsset(context, kind, id, url, scope, failedDownloadIsNone);
		if (reply.kind === 'failed') return none(`downloading it failed: ${reply.message}`);
		if (reply.kind === 'file') {
			// A page from a proxy, say, with 200: not a file to save as .png.
			const sniffed = sniffExtension(reply.bytes);
			if (!sniffed || !IMAGE_KINDS.has(sniffed)) return none(`the server sent ${reply.mimeType || 'a file'} that is not an image`);
			const ext = EXT_BY_MIME[reply.mimeType] ?? (sniffed === 'jpg' ? 'jpg' : sniffed);
			// Named after its image when that is known (an email attachment, a bucket key), else after the document.
			const fileName = `${namedAfter ?? id}-${kind}.${ext}`;
			return { found: true, bytes: reply.bytes, mimeType: reply.mimeType, fileName, heatmapStatus: reply.headers['x-heatmap-status'] ?? heatmapStatus };
		}
		if (reply.kind === 'none') return none(reply.message);
		// 202: still being made although /query said ready. Wait a little longer each time, then ask /query again
		// and retry (the reference's advice), within the deadline.
		if (Date.now() + retryMs >= settings.deadline) throw timedOut(n8n, id, { ...answer, status: 'done' }, { ...settings, waitForHeatmap: true });
		const cancel = n8n.getExecutionCancelSignal?.();
		await pause(retryMs, cancel);
		if (cancel?.aborted) throw new NodeOperationError(n8n.getNode(), 'The execution was cancelled', { itemIndex: settings.itemIndex });
		retryMs = Math.min(retryMs * 1.5, 5000);
		answer = { ...answer, result_details: { ...details, heatmap_status: 'pending' } };
	}
}

/** api.asset, where an API error may be an answer ("failed") rather than thrown. */
async function downloadAsset(
	context: OperationContext,
	kind: AssetKind,
	id: string,
	url: string,
	scope: Scope,
	failedIsAnswer: boolean,
): Promise<AssetReply | { kind: 'failed'; message: string }> {
	try {
		return await context.api.asset(kind, id, url, scope);
	} catch (error) {
		const cancelled = context.n8n.getExecutionCancelSignal?.()?.aborted === true;
		if (failedIsAnswer && !cancelled && error instanceof NodeApiError) return { kind: 'failed', message: error.message };
		throw error instanceof NodeApiError ? error : new NodeOperationError(context.n8n.getNode(), error as Error);
	}
}

/** An absolute http(s) address: what the node fetches a file from (never a relative path, file: or the like). */
function isWebAddress(url: string): boolean {
	if (!URL.canParse(url)) return false;
	const protocol = new URL(url).protocol;
	return protocol === 'http:' || protocol === 'https:';
}
