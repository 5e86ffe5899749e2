import type { IBinaryData, IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { AssetKind, ImageDetectorApi } from '../api/client';
import { analysisStatusOf, failureReason, heatmapStatusOf, isBulk, isFinal } from '../api/output';
import type { Poller, QueryAnswer } from '../api/poller';
import { InputProblem } from '../helpers/files';

/** What every operation gets for one node run. */
export interface RunContext {
	fn: IExecuteFunctions;
	api: ImageDetectorApi;
	poller: Poller;
}

/** One operation: its parameters, and what it does for one input item. */
export interface Operation {
	description: INodeProperties[];
	/** The output items for input item `itemIndex` (the router adds pairedItem). */
	execute(run: RunContext, itemIndex: number): Promise<INodeExecutionData[]>;
	/**
	 * For operations that take all input items at once (Bulk Detect from items): whether this run does, and then
	 * the outputs per input item (an Error for an item that failed).
	 */
	takesAllItems?(run: RunContext): boolean;
	executeAll?(run: RunContext, itemIndexes: number[]): Promise<Map<number, INodeExecutionData[] | Error>>;
}

// ---- Parameters shared by several operations -------------------------------------------------------------------

type Show = Record<string, string[]>;

export const waitForResultParameter = (show: Show, description: string): INodeProperties => ({
	displayName: 'Wait for Result',
	name: 'waitForResult',
	type: 'boolean',
	default: true,
	description,
	displayOptions: { show },
});

export const optionsParameter = (show: Show, options: INodeProperties[]): INodeProperties => ({
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	displayOptions: { show },
	options,
});

export const documentIdParameter = (show: Show, description: string): INodeProperties => ({
	displayName: 'Document ID',
	name: 'documentId',
	type: 'string',
	default: '',
	required: true,
	placeholder: '77565038-9e3d-4e6a-8c80-e20785be5ee9',
	description,
	displayOptions: { show },
});

export const timeoutOption = (defaultSeconds: number, what: string): INodeProperties => ({
	displayName: 'Timeout (Seconds)',
	name: 'timeout',
	type: 'number',
	typeOptions: { minValue: 1 },
	default: defaultSeconds,
	description: `How long to wait for ${what} before the node stops with an error that names the document ID to fetch later`,
});

export const concurrencyOption: INodeProperties = {
	displayName: 'Concurrency',
	name: 'concurrency',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 20 },
	default: 5,
	description: 'How many input items are processed at the same time. Lower it if the API rate-limits you.',
};

export const simplifyOption: INodeProperties = {
	displayName: 'Simplify Output',
	name: 'simplify',
	type: 'boolean',
	default: true,
	description: "Whether to return flat fields (score, verdict, heatmapUrl, ...) instead of the API's whole response",
};

export const waitForHeatmapOption: INodeProperties = {
	displayName: 'Wait for Heatmap',
	name: 'waitForHeatmap',
	type: 'boolean',
	default: false,
	description: 'Whether to wait until the heatmap is ready (it is made a little after the score), so heatmapUrl is set',
};

export const waitForAnalysisOption: INodeProperties = {
	displayName: 'Wait for Analysis',
	name: 'waitForAnalysis',
	type: 'boolean',
	default: false,
	description: 'Whether to wait until the detailed analysis is ready (it is made after the score), so analysis is set',
};

export const outputModeParameter = (show: Show): INodeProperties => ({
	displayName: 'Output',
	name: 'outputMode',
	type: 'options',
	options: [
		{ name: 'One Item per Image', value: 'perImage', description: 'Each image of the batch as its own item' },
		{ name: 'One Item per Batch', value: 'perBatch', description: 'Each bulk request as one item with its results and counts' },
	],
	default: 'perImage',
	displayOptions: { show },
});

// ---- Errors ----------------------------------------------------------------------------------------------------

/** The error for an item, as n8n shows it: what is wrong, how to fix it, which item. */
export function itemError(fn: IExecuteFunctions, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof InputProblem) {
		return new NodeOperationError(fn.getNode(), error.message, { itemIndex, description: error.fix });
	}
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
		return error;
	}
	return new NodeOperationError(fn.getNode(), error as Error, { itemIndex });
}

/** An error about a document: keeps its id, so Continue On Fail can hand it on. */
export function documentError(fn: IExecuteFunctions, message: string, description: string, id: string, itemIndex?: number) {
	const error = new NodeOperationError(fn.getNode(), message, { itemIndex, description });
	error.context.documentId = id;
	return error;
}

export function notFound(fn: IExecuteFunctions, id: string, itemIndex?: number) {
	return documentError(
		fn,
		`No document with ID ${id} was found`,
		'Check the ID: it must come from a Detect Image or Bulk Detect run with the same API account. Results may also have expired.',
		id,
		itemIndex,
	);
}

export function failedDetection(fn: IExecuteFunctions, answer: IDataObject, itemIndex?: number) {
	const error = new NodeApiError(
		fn.getNode(),
		{ message: `Detection failed: ${failureReason(answer)}` },
		{
			message: `Detection failed: ${failureReason(answer)}`,
			description:
				'The service could not analyze this image. Check that it is a valid, uncorrupted image in a supported format between 1 KB and 10 MB; contact Undetectable.AI support if it keeps failing.',
			itemIndex,
		},
	);
	error.context.documentId = answer.id;
	return error;
}

// ---- Waiting for a document ------------------------------------------------------------------------------------

export interface WaitSettings {
	deadline: number;
	timeoutSeconds: number;
	/** When the document was submitted (or now, for an id from elsewhere). */
	since: number;
	immediate?: boolean;
	waitForHeatmap?: boolean;
	waitForAnalysis?: boolean;
	itemIndex?: number;
	/** The document's name in messages. */
	label?: string;
}

const stillMaking = (status: string | null) => status === 'pending' || status === 'analyzing';

/**
 * Waits for a single image or a bulk batch until it is done or failed, then (single images) for its heatmap and
 * analysis when asked. Unknown ids and timeouts become errors that say what to do.
 */
export async function waitForDocument(run: RunContext, id: string, s: WaitSettings): Promise<IDataObject> {
	const { fn, poller } = run;
	const first = await poller.wait({
		id,
		phase: 'result',
		isFinished: (a) => a === null || isFinal(a.status),
		deadline: s.deadline,
		since: s.since,
		immediate: s.immediate,
		itemIndex: s.itemIndex,
	});
	if (first.answer === null) throw notFound(fn, id, s.itemIndex);
	if (first.timedOut) throw timeoutError(fn, id, first.answer, s);
	let answer = first.answer;
	if (isBulk(answer) || answer.status === 'failed') return answer;

	const extras = (a: IDataObject) =>
		(s.waitForHeatmap && heatmapStatusOf(a) === 'pending') || (s.waitForAnalysis && stillMaking(analysisStatusOf(a)));
	if (extras(answer)) {
		const second = await poller.wait({
			id,
			phase: s.waitForAnalysis ? 'analysis' : 'heatmap',
			isFinished: (a) => a === null || !extras(a),
			deadline: s.deadline,
			since: Date.now(),
			itemIndex: s.itemIndex,
		});
		if (second.answer === null) throw notFound(fn, id, s.itemIndex);
		if (second.timedOut) throw timeoutError(fn, id, second.answer, s);
		answer = second.answer;
	}
	return answer;
}

function timeoutError(fn: IExecuteFunctions, id: string, answer: IDataObject, s: WaitSettings) {
	const what = isFinal(answer.status)
		? s.waitForAnalysis && stillMaking(analysisStatusOf(answer))
			? 'its analysis'
			: 'its heatmap'
		: 'the result';
	const label = s.label ? ` of "${s.label}"` : '';
	const error = documentError(
		fn,
		`Timed out after ${s.timeoutSeconds} s waiting for ${what}${label} (document ${id})`,
		`Raise the "Timeout (Seconds)" option (now ${s.timeoutSeconds}), or fetch it later with the Get Result operation and Document ID ${id}.`,
		id,
		s.itemIndex,
	);
	error.context.lastStatus = answer.status;
	return error;
}

// ---- Heatmap and preview files ---------------------------------------------------------------------------------

export interface AssetFile {
	bytes: Buffer;
	mimeType: string;
	fileName: string;
	heatmapStatus: string | null;
}

const EXT_BY_MIME: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };

/**
 * Gets a document's heatmap or preview as a file: waits (within the deadline) for the result and, for a heatmap,
 * until it is made; then fetches it from storage or, for secure URLs, from the API.
 */
export async function fetchAssetFile(
	run: RunContext,
	kind: AssetKind,
	id: string,
	s: WaitSettings,
	known?: IDataObject,
): Promise<AssetFile> {
	const { fn, api } = run;
	let answer: QueryAnswer = known ?? (await api.query(id, s.itemIndex));
	if (answer === null) throw notFound(fn, id, s.itemIndex);
	for (;;) {
		if (isBulk(answer)) {
			throw new InputProblem(
				`Document ${id} is a bulk batch, which has no single ${kind}`,
				`Use the "id" of each image from the Bulk Detect output (one item per image) instead of the batch ID.`,
			);
		}
		const needsWait = !isFinal(answer.status) || (kind === 'heatmap' && heatmapStatusOf(answer) === 'pending');
		if (needsWait) answer = await waitForDocument(run, id, { ...s, waitForHeatmap: kind === 'heatmap', immediate: false });
		if (answer.status === 'failed') throw failedDetection(fn, answer, s.itemIndex);

		const heatmapStatus = heatmapStatusOf(answer);
		const details = (answer.result_details ?? {}) as IDataObject;
		const url = (kind === 'heatmap' ? details.heatmap_url : answer.preview_url) as string | null | undefined;
		if (!url) throw noAsset(fn, kind, id, kind === 'heatmap' ? `heatmap_status is "${heatmapStatus ?? 'absent'}"` : 'no preview URL', s.itemIndex);

		const got = await api.asset(kind, id, url, s.itemIndex);
		if (got.kind === 'file') {
			const ext = EXT_BY_MIME[got.mimeType] ?? 'png';
			return { bytes: got.bytes, mimeType: got.mimeType, fileName: `${id}-${kind}.${ext}`, heatmapStatus: got.headers['x-heatmap-status'] ?? heatmapStatus };
		}
		if (got.kind === 'none') throw noAsset(fn, kind, id, got.message, s.itemIndex);
		// 202: still being made although /query said ready; ask /query again, then retry (the reference's advice).
		if (Date.now() >= s.deadline) throw timeoutError(fn, id, { ...answer, status: 'done' }, { ...s, waitForHeatmap: true });
		answer = { ...answer, result_details: { ...details, heatmap_status: 'pending' } };
	}
}

function noAsset(fn: IExecuteFunctions, kind: AssetKind, id: string, why: string, itemIndex?: number) {
	const error = documentError(
		fn,
		`Document ${id} has no ${kind}: ${why}`,
		kind === 'heatmap'
			? 'The heatmap is optional and sometimes cannot be made for an image. The score and verdict are still valid.'
			: 'A preview is made only when the image is submitted with "Generate Preview" on. Detect the image again with it on.',
		id,
		itemIndex,
	);
	error.context.noAsset = true;
	return error;
}

/**
 * The file in an input item's binary property, or a problem that names the properties the item does have.
 * `whenNone` says how to get a file there when the item has no binary data at all.
 */
export async function readBinary(
	fn: IExecuteFunctions,
	itemIndex: number,
	property: string,
	whenNone: string,
): Promise<{ meta: IBinaryData; bytes: Buffer }> {
	const binary = fn.getInputData()[itemIndex].binary;
	if (!binary?.[property]) {
		const present = Object.keys(binary ?? {});
		throw new InputProblem(
			`Item ${itemIndex} has no binary property "${property}"`,
			present.length ? `Its binary properties are: ${present.join(', ')}. Set "Input Binary Field" to the right one.` : whenNone,
		);
	}
	const meta = fn.helpers.assertBinaryData(itemIndex, property);
	return { meta, bytes: await fn.helpers.getBinaryDataBuffer(itemIndex, property) };
}

/** Reads the `options` collection of an item as a plain object. */
export function optionsOf(fn: IExecuteFunctions, itemIndex: number): IDataObject {
	return fn.getNodeParameter('options', itemIndex, {}) as IDataObject;
}

export function deadlineFor(options: IDataObject, defaultSeconds: number): { deadline: number; timeoutSeconds: number } {
	const timeoutSeconds = Number(options.timeout ?? defaultSeconds) || defaultSeconds;
	return { timeoutSeconds, deadline: Date.now() + timeoutSeconds * 1000 };
}
