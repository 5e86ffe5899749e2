import type { IDataObject, INodeExecutionData, INodeProperties, IPairedItemData } from 'n8n-workflow';

import { bulkCounts, isFinal, simplifyBatch, simplifyImage } from '../../api/output';
import {
	checkImage,
	checkModel,
	extensionOf,
	InputProblem,
	MAX_IMAGE_BYTES,
	MAX_IMAGES_PER_ZIP,
	MAX_ZIP_BYTES,
	MIN_IMAGE_BYTES,
	normaliseFileName,
	sniffExtension,
	ZIP_IMAGE_EXTS,
} from '../../helpers/files';
import { pool } from '../../helpers/pool';
import { crc32, listZip, writeStoredZip, zipSize, type ZipEntryPlan } from '../../helpers/zip';
import type { Operation, RunContext } from '../common';
import {
	concurrencyOption,
	deadlineFor,
	documentError,
	itemError,
	optionsOf,
	optionsParameter,
	outputModeParameter,
	readBinary,
	simplifyOption,
	timeoutOption,
	waitForResultParameter,
} from '../common';

const show = { resource: ['image'], operation: ['bulkDetect'] };
const DEFAULT_TIMEOUT = 900;
/** ZIPs built from items are uploaded at most this many at a time (each may be up to 100 MB). */
const MAX_ZIPS_IN_FLIGHT = 2;

export const description: INodeProperties[] = [
	{
		displayName: 'Bulk Source',
		name: 'bulkSource',
		type: 'options',
		options: [
			{ name: 'ZIP File', value: 'zip', description: 'Each input item holds a ZIP of up to 50 images in a binary property' },
			{
				name: 'Images From Items',
				value: 'items',
				description: 'Each input item holds one image; the node packs them into ZIPs of up to 50 images itself',
			},
		],
		default: 'zip',
		displayOptions: { show },
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the binary property that holds the ZIP (or, from items, each image)',
		displayOptions: { show },
	},
	waitForResultParameter(show, 'Whether to wait until every image is done. Off: the output is the batch ID, to fetch later with Get Result.'),
	outputModeParameter(show),
	optionsParameter(show, [
		concurrencyOption,
		{
			displayName: 'Generate Analysis Details',
			name: 'generateAnalysisDetails',
			type: 'boolean',
			default: false,
			description: 'Whether to make the detailed written analysis for each image',
		},
		{
			displayName: 'Generate Preview',
			name: 'generatePreview',
			type: 'boolean',
			default: false,
			description: 'Whether to make a preview image for each image',
		},
		{
			displayName: 'Heatmap Overlay',
			name: 'heatmapOverlayed',
			type: 'boolean',
			default: true,
			description: 'Whether heatmaps are blended onto the images. Off: transparent PNGs of the heatmap alone.',
		},
		{
			displayName: 'Model',
			name: 'model',
			type: 'string',
			default: 'generic',
			description: '"generic", "sheerid", or "INSTANCE/generic" to use your dedicated instance',
		},
		{
			displayName: 'Return Partial Results on Timeout',
			name: 'returnPartialResults',
			type: 'boolean',
			default: false,
			description: 'Whether to output the images finished so far (the rest with status "pending") instead of failing when the timeout is reached',
		},
		simplifyOption,
		timeoutOption(DEFAULT_TIMEOUT, 'the whole batch'),
	]),
];

function bulkBody(options: IDataObject): IDataObject {
	const body: IDataObject = {
		generate_preview: options.generatePreview ?? false,
		generate_analysis_details: options.generateAnalysisDetails ?? false,
		generate_heatmap_overlayed: options.heatmapOverlayed ?? true,
	};
	const model = checkModel(options.model);
	if (model) body.model = model;
	return body;
}

/** Why the server would skip a ZIP entry (the reference's rules), or undefined when it would analyze it. */
function skipReason(path: string, size: number): string | undefined {
	const base = path.slice(path.lastIndexOf('/') + 1);
	if (path.split('/').includes('..') || path.startsWith('/')) return 'path traversal ("..") is not allowed';
	if (base.startsWith('.')) return 'hidden files are skipped';
	const ext = extensionOf(base);
	if (ext === 'pdf') return 'PDF is not supported in bulk';
	if (!ZIP_IMAGE_EXTS.includes(ext)) return `".${ext || base}" is not a supported image type`;
	if (size < MIN_IMAGE_BYTES) return 'smaller than 1 KB';
	if (size > MAX_IMAGE_BYTES) return 'larger than 10 MB';
	return undefined;
}

// ---- Output ----------------------------------------------------------------------------------------------------

export interface BulkOutputSettings {
	mode: string;
	simplify: boolean;
	expectedCount?: number;
}

/** A bulk answer as output items: one per image (skipped files too), or one for the batch. */
export function bulkOutput(answer: IDataObject, s: BulkOutputSettings): INodeExecutionData[] {
	if (s.mode === 'perBatch') {
		return [{ json: s.simplify ? simplifyBatch(answer, s.expectedCount) : answer }];
	}
	const batchId = answer.id;
	const entries = [...((answer.results as IDataObject[]) ?? []), ...((answer.skipped as IDataObject[]) ?? [])];
	return entries.map((r) => ({ json: { batchId, ...(s.simplify ? simplifyImage(r) : r) } }));
}

// ---- Waiting ---------------------------------------------------------------------------------------------------

interface BulkWait {
	deadline: number;
	timeoutSeconds: number;
	since: number;
	partial: boolean;
	expectedCount?: number;
	itemIndex?: number;
}

/** Waits for a batch; on timeout, either its partial answer (`partial`) or an error that says how far it got. */
async function waitForBatch(run: RunContext, id: string, w: BulkWait): Promise<IDataObject> {
	const { fn, poller } = run;
	const outcome = await poller.wait({
		id,
		phase: 'bulk',
		isFinished: (a) => a === null || isFinal(a.status),
		deadline: w.deadline,
		since: w.since,
		itemIndex: w.itemIndex,
	});
	const answer = outcome.answer;
	if (answer === null) {
		throw documentError(fn, `Bulk batch ${id} was not found`, 'The service did not keep the batch it accepted. Run the node again.', id, w.itemIndex);
	}
	if (outcome.timedOut && !w.partial) {
		const c = bulkCounts(answer, w.expectedCount);
		throw documentError(
			fn,
			`Timed out after ${w.timeoutSeconds} s waiting for bulk batch ${id}: ${c.done + c.failed} of ${c.expectedCount} images finished`,
			`Raise the "Timeout (Seconds)" option (now ${w.timeoutSeconds}), turn on "Return Partial Results on Timeout", or fetch the batch later with Get Result and Document ID ${id}.`,
			id,
			w.itemIndex,
		);
	}
	if (answer.status === 'failed') {
		throw documentError(fn, `Bulk batch ${id} failed`, 'The service could not complete this batch. Check the images, then run the node again.', id, w.itemIndex);
	}
	return answer;
}

// ---- From one ZIP per item -------------------------------------------------------------------------------------

async function loadZip(run: RunContext, itemIndex: number): Promise<{ bytes: Buffer; fileName: string; imageCount: number }> {
	const { fn } = run;
	const property = String(fn.getNodeParameter('binaryPropertyName', itemIndex, 'data')).trim();
	const { meta, bytes } = await readBinary(
		fn,
		itemIndex,
		property,
		'Put a node that reads the ZIP before this one, or use Bulk Source "Images From Items" to let the node build the ZIPs.',
	);
	if (sniffExtension(bytes) !== 'zip') {
		throw new InputProblem(
			`The file "${meta.fileName ?? property}" is not a ZIP`,
			'Bulk Source "ZIP File" needs a .zip of images. For single images, use Bulk Source "Images From Items" or Detect Image.',
		);
	}
	if (bytes.length > MAX_ZIP_BYTES) {
		throw new InputProblem(
			`The ZIP is too large (${(bytes.length / 1024 / 1024).toFixed(1)} MB; at most 100 MB)`,
			'Split it into several ZIPs, or use Bulk Source "Images From Items", which splits for you.',
		);
	}
	const listing = listZip(bytes);
	if (!listing) throw new InputProblem('The ZIP cannot be read (its directory is missing or damaged)', 'Create the ZIP again.');
	const files = listing.filter((e) => !e.directory);
	const reasons = files.map((e) => ({ name: e.name, why: skipReason(e.name, e.size) }));
	const valid = reasons.filter((r) => !r.why).length;
	if (valid > MAX_IMAGES_PER_ZIP) {
		throw new InputProblem(
			`The ZIP holds ${valid} images; at most ${MAX_IMAGES_PER_ZIP} are allowed per bulk request`,
			'Split it into ZIPs of 50 images, or use Bulk Source "Images From Items", which splits for you.',
		);
	}
	if (!valid) {
		const some = reasons.slice(0, 5).map((r) => `${r.name}: ${r.why}`).join('; ');
		throw new InputProblem(
			`No image in the ZIP can be analyzed${some ? ` (${some})` : ' (it is empty)'}`,
			'Use JPG, PNG, WebP, HEIC, HEIF, AVIF, BMP, TIFF, GIF or SVG files between 1 KB and 10 MB; no PDF, no hidden files.',
		);
	}
	let fileName = normaliseFileName(meta.fileName, 'application/zip', 'images');
	if (extensionOf(fileName) !== 'zip') fileName = `${fileName.replace(/\.[^.]*$/, '')}.zip`;
	return { bytes, fileName, imageCount: valid };
}

async function execute(run: RunContext, itemIndex: number): Promise<INodeExecutionData[]> {
	const { fn, api } = run;
	const options = optionsOf(fn, itemIndex);
	const body = bulkBody(options);
	const mode = fn.getNodeParameter('outputMode', itemIndex, 'perImage') as string;
	const { deadline, timeoutSeconds } = deadlineFor(options, DEFAULT_TIMEOUT);

	let zip: { bytes: Buffer; fileName: string; imageCount: number } | undefined = await loadZip(run, itemIndex);
	const { fileName, imageCount } = zip;
	const presigned = await api.presign(fileName, itemIndex);
	await api.upload(presigned.presignedUrl, zip.bytes, 'application/zip', itemIndex);
	zip = undefined;
	const since = Date.now();
	const batch = await api.bulkUpload({ ...body, url: api.storageUrl(presigned.filePath) }, imageCount, itemIndex);
	if (!fn.getNodeParameter('waitForResult', itemIndex, true)) {
		return [{ json: { batchId: batch.id, status: 'pending', expectedCount: batch.expectedCount ?? imageCount, fileName } }];
	}
	const answer = await waitForBatch(run, batch.id, {
		deadline,
		timeoutSeconds,
		since,
		partial: options.returnPartialResults === true,
		expectedCount: batch.expectedCount,
		itemIndex,
	});
	return bulkOutput(answer, { mode, simplify: options.simplify !== false, expectedCount: batch.expectedCount });
}

// ---- From the images of all input items ------------------------------------------------------------------------

interface PlannedImage extends ZipEntryPlan {
	itemIndex: number;
}

/** Splits images into ZIPs of at most 50 images and 100 MB, with unique names inside each. */
function planZips(images: PlannedImage[]): PlannedImage[][] {
	const zips: PlannedImage[][] = [];
	let current: PlannedImage[] = [];
	let names = new Set<string>();
	for (const image of images) {
		const next = [...current, image];
		if (current.length && (current.length >= MAX_IMAGES_PER_ZIP || zipSize(next) > MAX_ZIP_BYTES)) {
			zips.push(current);
			current = [];
			names = new Set();
		}
		let name = image.name;
		for (let n = 2; names.has(name.toLowerCase()); n++) name = image.name.replace(/(\.[^.]+)?$/, `-${n}$1`);
		names.add(name.toLowerCase());
		current.push({ ...image, name });
	}
	if (current.length) zips.push(current);
	return zips;
}

function takesAllItems(run: RunContext): boolean {
	return run.fn.getNodeParameter('bulkSource', 0, 'zip') === 'items';
}

async function executeAll(run: RunContext, itemIndexes: number[]): Promise<Map<number, INodeExecutionData[] | Error>> {
	const { fn, api } = run;
	const out = new Map<number, INodeExecutionData[] | Error>();
	const options = optionsOf(fn, 0);
	const body = bulkBody(options);
	const mode = fn.getNodeParameter('outputMode', 0, 'perImage') as string;
	const wait = fn.getNodeParameter('waitForResult', 0, true) as boolean;
	const simplify = options.simplify !== false;
	const { deadline, timeoutSeconds } = deadlineFor(options, DEFAULT_TIMEOUT);
	const property = String(fn.getNodeParameter('binaryPropertyName', 0, 'data')).trim();

	// 1. Check every image before anything is uploaded: what the server would skip is reported here, per item.
	const planned: PlannedImage[] = [];
	for (const itemIndex of itemIndexes) {
		try {
			const { meta, bytes } = await readBinary(fn, itemIndex, property, 'Every input item needs its image in a binary property; put a node that reads the images before this one.');
			const name = normaliseFileName(meta.fileName, meta.mimeType, `image-${itemIndex}`);
			checkImage(name, bytes, false);
			planned.push({ itemIndex, name, size: bytes.length, crc: crc32(bytes) });
		} catch (error) {
			// Without Continue On Fail, one bad image stops the run before any credit is spent.
			if (!fn.continueOnFail()) throw itemError(fn, error, itemIndex);
			out.set(itemIndex, itemError(fn, error, itemIndex));
		}
	}

	// 2. One bulk request per ZIP of up to 50 images / 100 MB.
	await pool(planZips(planned), Math.min(MAX_ZIPS_IN_FLIGHT, Number(options.concurrency ?? 5) || 1), async (images) => {
		const first = images[0].itemIndex;
		try {
			// The ZIP is written straight into one buffer, reading each image again: never two copies of them all.
			let zip: Buffer | undefined = await writeStoredZip(images, (k) => fn.helpers.getBinaryDataBuffer(images[k].itemIndex, property));
			const presigned = await api.presign(`images-${first}.zip`, first);
			await api.upload(presigned.presignedUrl, zip, 'application/zip', first);
			zip = undefined;
			const since = Date.now();
			const batch = await api.bulkUpload({ ...body, url: api.storageUrl(presigned.filePath) }, images.length, first);
			let answer: IDataObject;
			if (wait) {
				answer = await waitForBatch(run, batch.id, {
					deadline,
					timeoutSeconds,
					since,
					partial: options.returnPartialResults === true,
					expectedCount: batch.expectedCount,
					itemIndex: first,
				});
			} else {
				answer = {
					id: batch.id,
					status: 'pending',
					results: images.map((img) => ({ id: null, status: 'pending', result: null, result_details: null, filename: img.name })),
					skipped: [],
				};
			}
			distribute(out, images, answer, { mode, simplify, expectedCount: batch.expectedCount });
		} catch (error) {
			for (const img of images) out.set(img.itemIndex, itemError(fn, error, img.itemIndex));
		}
	});
	return out;
}

/** Hands each image's result back to the input item it came from. */
function distribute(out: Map<number, INodeExecutionData[] | Error>, images: PlannedImage[], answer: IDataObject, s: BulkOutputSettings) {
	if (s.mode === 'perBatch') {
		const pairedItem: IPairedItemData[] = images.map((img) => ({ item: img.itemIndex }));
		out.set(images[0].itemIndex, [{ json: s.simplify ? simplifyBatch(answer, s.expectedCount) : answer, pairedItem }]);
		for (const img of images.slice(1)) out.set(img.itemIndex, []);
		return;
	}
	const entries = [...((answer.results as IDataObject[]) ?? []), ...((answer.skipped as IDataObject[]) ?? [])];
	const byName = new Map(entries.map((e) => [String(e.filename ?? '').toLowerCase(), e]));
	images.forEach((img, k) => {
		// By name first (the ZIP's names are unique and already safe); by position if the server renamed it.
		const entry = byName.get(img.name.toLowerCase()) ?? (answer.results as IDataObject[])?.[k];
		const json: IDataObject = entry
			? { batchId: answer.id, ...(s.simplify ? simplifyImage(entry, img.name) : entry) }
			: { batchId: answer.id, status: 'failed', fileName: img.name, error: 'The service did not report this image' };
		out.set(img.itemIndex, [{ json }]);
	});
}

export const bulkDetect: Operation = { description, execute, takesAllItems, executeAll };
