import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { randomUUID } from 'crypto';

import type { ImageUpload } from '../../api/handshake';
import { analysisPending, fetchAsset, isComplete, submitImage, waitForImage } from '../../api/handshake';
import { derivedDocumentId } from '../../api/documentIds';
import { besideInput, failureReason, forModel, simplifyImage, skippedFile } from '../../api/output';
import { nonPublicReason } from '../../helpers/addresses';
import { within } from '../../helpers/pause';
import type { InputFile, Selected } from '../../helpers/binary';
import { carriedFiles, FILES_IN_JSON, headOf, readFile, selectFiles, sizeOf } from '../../helpers/binary';
import type { ImageType } from '../../helpers/files';
import { checkDocumentId, checkHttpUrl, checkImage, checkSizeAndType, imageTypeOf, MAX_IMAGE_BYTES, stemOf, uploadNameFor } from '../../helpers/files';
import type { FileLabel } from '../../transport/errors';
import { afterSubmission, documentError, failedDetection, InputProblem } from '../../transport/errors';
import type { Operation, OperationContext, Slot, SlotOutput, SlotProblem, WorkUnit } from '../operation';
import { checkSelected, problemIn, slotOf } from '../operation';
import {
	binaryFieldHint,
	concurrencyOption,
	deadlineFrom,
	detectionFields,
	filesParameter,
	includeInputFieldsOption,
	optionsOf,
	optionsParameter,
	simplifyOption,
	timeoutOption,
	toolDescriptionParameter,
	waitForHeatmapOption,
	waitForResultParameter,
	withToolDefault,
} from './parameters';

const DEFAULT_TIMEOUT = 300;
const NO_BINARY_HINT =
	'The item has no binary data at all. Put a node that reads or downloads the image (Read/Write Files from Disk, HTTP Request, Google Drive, ...) before this one, or use Input Source "Image URL".';
const NO_BINARY_HINT_TOOL = 'An AI agent hands a tool no files, only the model\'s arguments: set this tool\'s Input Source to "Image URL".';

const TOOL_DESCRIPTION =
	'Checks whether an image on the web is AI-generated. Pass imageUrl: the public http(s) address of the image file itself ' +
	'(JPG, PNG, WebP, GIF, HEIC, AVIF, BMP, TIFF or SVG, 1 KB to 10 MB), not a web page that shows it. Returns id (the document ID, ' +
	'for Get Result later), status ("done"), score (0-100: how likely the image is AI-generated; higher is more likely AI) and ' +
	'verdict (the service\'s label, such as "AI Generated", "Real", "Digitally Edited" or "AI Edited"), and analysis (the written ' +
	'reasoning) when it is ready. Each new image costs one credit; the same image again is answered from its earlier result at no ' +
	'cost. It may take from seconds to a few minutes. On failure it returns error (what went wrong) and description (what to do).';

const properties: INodeProperties[] = [
	toolDescriptionParameter(TOOL_DESCRIPTION),
	// Used as an AI agent's tool, a binary file never arrives (a tool gets only the model's arguments): there the
	// default is the image URL, which the model fills in. Saved plain nodes keep "Binary File".
	...withToolDefault(
		{
			displayName: 'Input Source',
			name: 'inputSource',
			type: 'options',
			options: [
				{ name: 'Binary File', value: 'binary', description: 'An image in a binary field of the input item' },
				{ name: 'Image URL', value: 'url', description: 'An image on the web; the node downloads it, then uploads it' },
			],
			default: 'binary',
		},
		'url',
	),
	{ ...filesParameter('one result each'), displayOptions: { show: { inputSource: ['binary'] } } },
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: binaryFieldHint,
		description: 'The name of the binary field that holds the image (in combined binary mode, _files.data works as well as data)',
		displayOptions: { show: { inputSource: ['binary'], inputFiles: ['named'] } },
	},
	...withToolDefault(
		{
			displayName: 'Image URL',
			name: 'imageUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://example.com/photo.jpg',
			description: 'The address of the image to check',
			displayOptions: { show: { inputSource: ['url'] } },
		},
		"={{ $fromAI('imageUrl', 'The public http(s) address of the image file to check, such as https://example.com/photo.jpg', 'string') }}",
	),
	{
		displayName: 'Allow Private Network Addresses',
		name: 'allowPrivateAddresses',
		type: 'boolean',
		default: false,
		description:
			"Whether the model may pass addresses on n8n's own network (localhost, 10.x, 192.168.x, 169.254.x, names without a domain). Off: such addresses are refused before any request, since a model reads strangers' text and can be steered into asking n8n for internal pages.",
		displayOptions: { show: { inputSource: ['url'], '@tool': [true] } },
	},
	waitForResultParameter(
		'Whether to wait until the score is ready. Off: the item is the document ID with status "pending", to fetch later with Get Result.',
	),
	optionsParameter([
		concurrencyOption,
		{
			displayName: 'Document ID',
			name: 'documentId',
			type: 'string',
			default: '',
			placeholder: '77565038-9e3d-4e6a-8c80-e20785be5ee9',
			description: 'Your own UUID for the new document. Empty: the node makes one. It must not exist yet.',
		},
		{
			displayName: 'Document Type',
			name: 'documentType',
			type: 'string',
			default: 'Image',
			description: 'The API\'s document_type',
		},
		{
			displayName: 'Download Heatmap',
			name: 'downloadHeatmap',
			type: 'boolean',
			default: false,
			description: 'Whether to wait for the heatmap and attach it to the output item as a file, named after the image (beach-heatmap.png)',
		},
		{
			displayName: 'Email',
			name: 'email',
			type: 'string',
			placeholder: 'name@email.com',
			default: '',
			description: 'Email address for processing (the API\'s email)',
		},
		{
			displayName: 'File Name',
			name: 'fileName',
			type: 'string',
			default: '',
			placeholder: 'photo.jpg',
			description: 'The name to upload the image under. Empty: the file\'s own name, or the URL\'s. The type always comes from the file\'s bytes.',
		},
		{
			displayName: 'Generate Analysis Details',
			name: 'generateAnalysisDetails',
			type: 'boolean',
			default: true,
			description: 'Whether to make the detailed written analysis (ready a little after the score)',
		},
		{
			displayName: 'Generate Preview',
			name: 'generatePreview',
			type: 'boolean',
			default: true,
			description: 'Whether to make a preview image (previewUrl, Download Preview)',
		},
		{
			displayName: 'Heatmap Binary Field',
			name: 'heatmapBinaryPropertyName',
			type: 'string',
			default: 'heatmap',
			description: 'With Download Heatmap: the binary field to put the heatmap in',
		},
		{
			displayName: 'Heatmap Overlay',
			name: 'heatmapOverlayed',
			type: 'boolean',
			default: true,
			description:
				'Whether the heatmap is blended onto the image. Off: a transparent PNG of the heatmap alone, to layer yourself.',
		},
		includeInputFieldsOption,
		{
			displayName: 'Model',
			name: 'model',
			type: 'string',
			default: 'generic',
			placeholder: 'generic',
			description: '"generic", "sheerid", or "INSTANCE/generic" to use your dedicated instance',
		},
		{
			displayName: 'Reuse Earlier Result',
			name: 'reuseEarlierResult',
			type: 'boolean',
			default: true,
			description:
				'Whether an image already checked with the same options returns that result at no credit (the output says reused: true). Off: every run checks the image anew and spends a credit.',
		},
		simplifyOption,
		timeoutOption(DEFAULT_TIMEOUT, 'the result'),
		{
			displayName: 'User Agent',
			name: 'userAgent',
			type: 'string',
			default: '',
			description: 'A string stored with the document for analytics and support',
		},
		{
			displayName: 'Wait for Analysis',
			name: 'waitForAnalysis',
			type: 'boolean',
			default: true,
			description:
				'Whether to wait for the written analysis (made a little after the score) when Generate Analysis Details is on. Off: the result comes as soon as the score does, with analysis null and analysisStatus "pending"; fetch it later with Get Result.',
		},
		waitForHeatmapOption,
	]),
];

/** The /detect body from the options, checked before anything is sent. */
function detectBody(options: IDataObject): IDataObject {
	const body = detectionFields(options, { preview: true, analysis: true });
	if (options.documentId) body.id = checkDocumentId(options.documentId, 'The Document ID option');
	if (options.documentType && options.documentType !== 'Image') body.document_type = String(options.documentType);
	if (options.email) {
		const email = String(options.email).trim();
		if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
			throw new InputProblem(`The Email option "${email.slice(0, 60)}" is not an email address`, 'Enter an address like name@example.com, or leave it empty.');
		}
		body.email = email;
	}
	if (options.userAgent) body.user_agent = String(options.userAgent);
	if (body.document_type === 'URL' && !body.email) {
		throw new InputProblem('Document Type "URL" needs an email address', 'Set the Email option.');
	}
	return body;
}

/** What one unit of Detect checks: a file of an input item (its type known from its bytes), or the item's Image URL. */
type Source = { kind: 'file'; file: InputFile; type: ImageType } | { kind: 'url'; url: string };

interface DetectUnit extends WorkUnit {
	slots: [Slot];
	source: Source;
}

/** The name a file is known by: the user's own (from the file, or the URL), before any cleaning for the upload. */
function userNameOf(source: Source): string | undefined {
	if (source.kind === 'file') return source.file.meta.fileName;
	const last = new URL(source.url).pathname.split('/').pop() ?? '';
	try {
		return decodeURIComponent(last) || undefined;
	} catch {
		return last || undefined;
	}
}

const labelOf = (source: Source): FileLabel => ({ fileName: userNameOf(source), binaryField: source.kind === 'file' ? source.file.field : undefined });

/**
 * An Image URL, checked before anything is sent. Used as a tool, the address came from a model: one on n8n's own
 * network is refused unless the user allowed it (redirects are checked again as they come).
 */
function checkImageUrl(context: OperationContext, itemIndex: number): string {
	const url = checkHttpUrl(context.n8n.getNodeParameter('imageUrl', itemIndex, ''));
	if (context.tool && !allowsPrivate(context, itemIndex)) {
		const why = nonPublicReason(new URL(url));
		if (why) {
			throw new InputProblem(
				`The image URL's host ${new URL(url).host} is ${why}, which an AI tool may not fetch: nothing was sent there`,
				'Pass the public address of the image. Addresses on n8n\'s own network are refused when an AI model supplies them; if the image really is on your network, turn on "Allow Private Network Addresses" for this tool.',
			);
		}
	}
	return url;
}

const allowsPrivate = (context: OperationContext, itemIndex: number) => context.n8n.getNodeParameter('allowPrivateAddresses', itemIndex, false) === true;

/**
 * A file's size and type, from its metadata and first bytes only (not read whole). Under "every image", a file
 * that is no image (a PDF too) is skipped: the reason, rather than a problem.
 */
async function checkFile(context: OperationContext, file: InputFile, everyImage: boolean): Promise<ImageType> {
	const name = file.meta.fileName ?? file.field;
	const head = await headOf(context.n8n, file);
	const type = checkSizeAndType(name, await sizeOf(context.n8n, file), () => imageTypeOf(name, file.meta.mimeType, head));
	if (everyImage && type.ext === 'pdf') throw new InputProblem(`"${name}" is a PDF, not an image`, 'Only images are checked under "Every Image of the Item".');
	return type;
}

function skipped(context: OperationContext, slot: Slot, file: InputFile | undefined, reason: string): SlotOutput {
	const json = skippedFile(file && { fileName: file.meta.fileName, field: file.field }, reason);
	return { ...slot, items: [{ json: withInputFields(context, slot.itemIndex, json) }] };
}

/**
 * Plans every item before anything is sent: its options, then its files (each its own unit, in field order) or
 * its Image URL. Bad input is a problem of its item or file; under "every image", a file that is no image is a
 * "skipped" output.
 */
async function plan(context: OperationContext, itemIndexes: number[]) {
	const { n8n } = context;
	const units: DetectUnit[] = [];
	const problems: SlotProblem[] = [];
	const done: SlotOutput[] = [];
	for (const itemIndex of itemIndexes) {
		let files: Selected[] = [];
		let everyImage = false;
		let url = '';
		const problem = await problemIn(n8n, async () => {
			const options = optionsOf(n8n, itemIndex);
			detectBody(options);
			deadlineFrom(options, DEFAULT_TIMEOUT);
			if (n8n.getNodeParameter('inputSource', itemIndex, context.tool ? 'url' : 'binary') === 'url') {
				url = checkImageUrl(context, itemIndex);
				return;
			}
			everyImage = n8n.getNodeParameter('inputFiles', itemIndex, 'named') === 'allImages';
			const selection = everyImage
				? { kind: 'all' as const }
				: { kind: 'named' as const, value: n8n.getNodeParameter('binaryPropertyName', itemIndex, 'data'), parameter: 'Input Binary Field' };
			files = selectFiles(n8n, itemIndex, selection, context.tool ? NO_BINARY_HINT_TOOL : NO_BINARY_HINT);
		});
		if (problem) {
			problems.push({ ...slotOf(itemIndex), error: problem });
			continue;
		}
		if (url) {
			const source: Source = { kind: 'url', url };
			units.push({ slots: [slotOf(itemIndex)], labels: [labelOf(source)], source });
			continue;
		}
		if (everyImage && !files.length) done.push(skipped(context, slotOf(itemIndex), undefined, 'The item has no files'));
		const skip = everyImage ? (slot: Slot, file: InputFile, reason: string) => skipped(context, slot, file, reason) : undefined;
		for (const { slot, file, checked } of await checkSelected(n8n, itemIndex, files, async (f) => await checkFile(context, f, everyImage), { problems, done }, skip)) {
			const source: Source = { kind: 'file', file, type: checked };
			units.push({ slots: [slot], labels: [labelOf(source)], source });
		}
	}
	return { units, problems, done };
}

/** The image at an Image URL, downloaded (with no key of any kind, within the item's deadline) and checked. */
async function download(context: OperationContext, itemIndex: number, url: string, deadline: number): Promise<{ bytes: Buffer; type: ImageType; mimeType?: string }> {
	const cap = { maxBytes: MAX_IMAGE_BYTES, tooLarge: 'Detect takes images up to 10 MB: use a smaller version of the image, or compress it first.' };
	const untrusted = context.tool ? { allowPrivate: allowsPrivate(context, itemIndex) } : undefined;
	const reply = await context.api.download(url, 'downloading the image from its URL', cap, { itemIndex, deadline }, 'imageUrl', untrusted);
	const bytes = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(JSON.stringify(reply.body ?? ''));
	const mimeType = reply.headers['content-type'];
	return { bytes, mimeType, type: checkImage(userNameOf({ kind: 'url', url }) ?? new URL(url).host, bytes, true, mimeType) };
}

async function execute(context: OperationContext, unit: DetectUnit): Promise<SlotOutput[]> {
	const slot = unit.slots[0];
	return [{ ...slot, items: await detectOne(context, slot.itemIndex, unit.source) }];
}

async function detectOne(context: OperationContext, itemIndex: number, source: Source): Promise<INodeExecutionData[]> {
	const { n8n, api } = context;
	const options = optionsOf(n8n, itemIndex);
	const body = detectBody(options);
	const { deadline, timeoutSeconds } = deadlineFrom(options, DEFAULT_TIMEOUT);
	const scope = { itemIndex, deadline };

	const loaded = source.kind === 'url' ? await download(context, itemIndex, source.url, deadline) : { bytes: await readFile(n8n, source.file), type: source.type, mimeType: source.file.meta.mimeType };
	const userName = userNameOf(source);
	const override = String(options.fileName ?? '').trim();
	const uploadName = uploadNameFor(override || userName, loaded.type);
	const fileName = userName ?? uploadName;
	let image: ImageUpload | undefined = { bytes: loaded.bytes, fileName: uploadName, contentType: loaded.type.contentType };
	const described: IDataObject = {
		fileName,
		uploadFileName: uploadName,
		...(source.kind === 'file' ? { binaryField: source.file.field } : {}),
		// Said only when the bytes decided: no type, a generic one, or one the bytes contradict.
		...(loaded.type.fromBytes ? { detectedType: loaded.type.contentType } : {}),
	};
	const wait = n8n.getNodeParameter('waitForResult', itemIndex, true) as boolean;

	// Your own Document ID, a derived one (the same image and options land on the same document), or a random one.
	const reuse = options.reuseEarlierResult !== false && body.id === undefined;
	let earlier = reuse ? await findEarlier(context, image.bytes, body, scope) : undefined;
	// A copy of an image this run is submitting already: its document, once it is there, is this one's too. If that
	// submission fails, the next copy to notice submits, and the others wait for that one.
	for (const waitedFor = new Set<Promise<unknown>>(); earlier && !earlier.answer; ) {
		const sameInThisRun = context.submissions.get(earlier.id);
		if (!sameInThisRun || waitedFor.has(sameInThisRun)) break;
		waitedFor.add(sameInThisRun);
		const cancel = n8n.getExecutionCancelSignal?.();
		const inTime = await within(sameInThisRun, deadline, cancel);
		if (cancel?.aborted) throw new NodeOperationError(n8n.getNode(), 'The execution was cancelled', { itemIndex });
		if (!inTime) {
			throw documentError(
				n8n,
				`Timed out after ${timeoutSeconds} s waiting for a copy of this image in the same run to be submitted (document ${earlier.id})`,
				`Raise the "Timeout (Seconds)" option, or fetch it later with the Get Result operation and Document ID ${earlier.id}.`,
				{ documentId: earlier.id },
				itemIndex,
			);
		}
		const answer = await api.query(earlier.id, scope);
		if (answer && answer.status !== 'failed') earlier = { ...earlier, answer };
	}
	const outcome = { reused: earlier?.answer !== undefined, ...(earlier?.failedBefore ? { earlierAttemptsFailed: earlier.failedBefore } : {}) };
	const document = { fileName, described, outcome, options, deadline, timeoutSeconds };
	if (earlier?.answer) {
		const id = earlier.id;
		if (!wait) return [pendingItem(context, itemIndex, id, String(earlier.answer.status), document)];
		return await afterSubmission(n8n, { documentId: id }, async () => await resultOf(context, itemIndex, { ...document, id, known: earlier.answer }));
	}
	const documentId = earlier?.id ?? (typeof body.id === 'string' ? body.id : randomUUID());
	// Set before the first await, so that a copy that found no earlier document either waits here or goes first.
	const submission = submitImage(api, image, body, scope, { documentId, nodeMadeId: body.id === undefined });
	context.submissions.set(documentId, submission.catch(() => undefined));
	const submitted = await submission;
	image = undefined; // the bytes are not needed while the result is made
	const { id, submittedAt } = submitted;
	if (!wait) return [pendingItem(context, itemIndex, id, 'pending', document)];
	return await afterSubmission(n8n, { documentId: id }, async () => await resultOf(context, itemIndex, { ...document, id, submittedAt }));
}

/** How many failed attempts at one image (with the same options) are passed over before the node gives up on it. */
const MAX_FAILED_ATTEMPTS = 10;

/**
 * The earlier document of this image with these options, found with /query under its derived ID: done or under
 * way (to reuse), or the ID to submit under. A document that ended `failed` does not block the image: the next ID
 * of its sequence is tried.
 */
async function findEarlier(context: OperationContext, bytes: Buffer, body: IDataObject, scope: { itemIndex: number; deadline: number }) {
	const apiKey = context.api.transport.settings.apiKey;
	let id = '';
	for (let attempt = 0; attempt < MAX_FAILED_ATTEMPTS; attempt++) {
		id = derivedDocumentId(apiKey, bytes, body, attempt);
		const answer = await context.api.query(id, scope);
		if (answer === null) return { id, answer: undefined, failedBefore: attempt };
		if (answer.status !== 'failed') return { id, answer, failedBefore: attempt };
	}
	throw documentError(
		context.n8n,
		`Detection of this image failed ${MAX_FAILED_ATTEMPTS} times with these options`,
		`The last attempt was document ${id}. Check that the image is valid, or turn off "Reuse Earlier Result" to submit it once more.`,
		{ documentId: id },
		scope.itemIndex,
	);
}

interface DocumentInHand {
	id: string;
	fileName: string;
	/** What the output says of the file: its names, field and the type used. */
	described: IDataObject;
	outcome: IDataObject;
	options: IDataObject;
	deadline: number;
	timeoutSeconds: number;
	submittedAt?: number;
	known?: IDataObject;
}

const withInputFields = (context: OperationContext, itemIndex: number, json: IDataObject) =>
	besideInput(context.n8n.getInputData()[itemIndex].json, json, optionsOf(context.n8n, itemIndex).includeInputFields === true);

/**
 * The output item around a result: for a model, only what it can act on; otherwise the input's own fields when
 * asked, and the input's files riding along (so a storage node after this one can file the image by its verdict).
 */
function outputItem(context: OperationContext, itemIndex: number, json: IDataObject, simplify: boolean): INodeExecutionData {
	if (context.tool) return { json: simplify ? forModel(json) : json };
	const out = withInputFields(context, itemIndex, json);
	const carried = carriedFiles(context.n8n, itemIndex);
	// Combined binary mode keeps the input's files in its JSON: they ride along there (unless already kept).
	if (carried.inJson && out[FILES_IN_JSON] === undefined) out[FILES_IN_JSON] = carried.inJson as IDataObject;
	return { json: out, ...(carried.binary ? { binary: carried.binary } : {}) };
}

function pendingItem(context: OperationContext, itemIndex: number, id: string, status: string, document: Pick<DocumentInHand, 'described' | 'outcome' | 'options'>) {
	return outputItem(context, itemIndex, { id, status, ...document.described, ...document.outcome }, document.options.simplify !== false);
}

/** The image's result as the output item: waited for (unless what is known is complete), with its heatmap file. */
async function resultOf(context: OperationContext, itemIndex: number, document: DocumentInHand): Promise<INodeExecutionData[]> {
	const { n8n } = context;
	const { id, submittedAt, fileName, options } = document;

	const downloadHeatmap = options.downloadHeatmap === true;
	// The analysis asked for (on by default) is waited for by default too, so that it is never silently empty.
	const analysisAskedFor = options.generateAnalysisDetails !== false;
	const settings = {
		deadline: document.deadline,
		timeoutSeconds: document.timeoutSeconds,
		submittedAt,
		waitForHeatmap: options.waitForHeatmap === true || downloadHeatmap,
		waitForAnalysis: analysisAskedFor && options.waitForAnalysis !== false,
		// The score is billed and final: an analysis still being written at the Timeout does not cost the verdict.
		analysisOptional: true,
		itemIndex,
		label: fileName,
	};
	const answer = document.known && isComplete(document.known, settings) ? document.known : await waitForImage(context, id, settings);
	if (answer.status === 'failed') throw failedDetection(n8n, id, failureReason(answer), itemIndex);

	const simplify = options.simplify !== false;
	const json: IDataObject = simplify ? { ...simplifyImage(answer, fileName), ...document.described, ...document.outcome } : { ...answer, ...document.outcome };
	if (settings.waitForAnalysis && analysisPending(answer)) {
		json.analysisError = `The analysis was not written within the Timeout (${document.timeoutSeconds} s); the score and verdict are final. Fetch it later with Get Result (Wait for Analysis on) and Document ID ${id}.`;
	}
	const output = outputItem(context, itemIndex, json, simplify);
	if (downloadHeatmap && !context.tool) {
		const heatmap = await fetchAsset(context, 'heatmap', id, settings, answer, true, stemOf(fileName));
		if (heatmap.found) {
			const property = String(options.heatmapBinaryPropertyName || 'heatmap');
			output.binary = { ...output.binary, [property]: await n8n.helpers.prepareBinaryData(heatmap.bytes, heatmap.fileName, heatmap.mimeType) };
		} else {
			// The heatmap is optional: an image without one keeps its verdict, and says why it has no file.
			output.json.heatmapError = heatmap.reason;
		}
	}
	return [output];
}

export const detect: Operation<DetectUnit> = {
	description: updateDisplayOptions({ show: { resource: ['image'], operation: ['detect'] } }, properties),
	plan,
	execute,
};
