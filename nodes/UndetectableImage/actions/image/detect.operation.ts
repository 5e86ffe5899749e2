import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { ImageUpload } from '../../api/handshake';
import { fetchAsset, isComplete, submitImage, waitForImage } from '../../api/handshake';
import { derivedDocumentId } from '../../api/documentIds';
import { failureReason, simplifyImage } from '../../api/output';
import { readBinary } from '../../helpers/binary';
import { checkDocumentId, checkHttpUrl, checkImage, MAX_IMAGE_BYTES, normaliseFileName } from '../../helpers/files';
import { randomUUID } from 'crypto';

import { afterSubmission, documentError, failedDetection, InputProblem } from '../../transport/errors';
import type { OperationContext } from '../operation';
import { perItem } from '../operation';
import {
	concurrencyOption,
	deadlineFrom,
	detectionFields,
	optionsOf,
	optionsParameter,
	simplifyOption,
	timeoutOption,
	waitForAnalysisOption,
	waitForHeatmapOption,
	waitForResultParameter,
} from './parameters';

const DEFAULT_TIMEOUT = 300;
const NO_BINARY_HINT =
	'The item has no binary data at all. Put a node that reads or downloads the image (Read/Write Files from Disk, HTTP Request, Google Drive, ...) before this one, or use Input Source "Image URL".';

const properties: INodeProperties[] = [
	{
		displayName: 'Input Source',
		name: 'inputSource',
		type: 'options',
		options: [
			{ name: 'Binary File', value: 'binary', description: 'An image in a binary property of the input item' },
			{ name: 'Image URL', value: 'url', description: 'An image on the web; the node downloads it, then uploads it' },
		],
		default: 'binary',
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the binary property that holds the image',
		displayOptions: { show: { inputSource: ['binary'] } },
	},
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
			description: 'Whether to wait for the heatmap and attach it to the output item as a file',
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
			description: 'The name to upload the image under. Empty: the binary file name, or the URL\'s. Its extension sets the file type.',
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
			description: 'With Download Heatmap: the binary property to put the heatmap in',
		},
		{
			displayName: 'Heatmap Overlay',
			name: 'heatmapOverlayed',
			type: 'boolean',
			default: true,
			description:
				'Whether the heatmap is blended onto the image. Off: a transparent PNG of the heatmap alone, to layer yourself.',
		},
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
		waitForAnalysisOption,
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

const fromUrl = (context: OperationContext, itemIndex: number) => context.n8n.getNodeParameter('inputSource', itemIndex, 'binary') === 'url';

/** The image of an item's binary property, named and checked against the reference's limits. */
async function imageFromBinary(context: OperationContext, itemIndex: number, options: IDataObject): Promise<ImageUpload> {
	const property = String(context.n8n.getNodeParameter('binaryPropertyName', itemIndex, 'data')).trim();
	const { meta, bytes } = await readBinary(context.n8n, itemIndex, property, NO_BINARY_HINT);
	const override = String(options.fileName ?? '').trim();
	const fileName = normaliseFileName(override || meta.fileName, override ? undefined : meta.mimeType);
	return { bytes, fileName, contentType: checkImage(fileName, bytes) };
}

/** The image at the item's Image URL, downloaded (with no key of any kind, within the item's deadline) and checked. */
async function imageFromUrl(context: OperationContext, itemIndex: number, options: IDataObject, deadline?: number): Promise<ImageUpload> {
	const url = checkHttpUrl(context.n8n.getNodeParameter('imageUrl', itemIndex, ''));
	const cap = { maxBytes: MAX_IMAGE_BYTES, tooLarge: 'Detect takes images up to 10 MB: use a smaller version of the image, or compress it first.' };
	const reply = await context.api.download(url, 'downloading the image from its URL', cap, { itemIndex, deadline }, 'imageUrl');
	const bytes = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(JSON.stringify(reply.body ?? ''));
	const override = String(options.fileName ?? '').trim();
	const fileName = normaliseFileName(override || new URL(url).pathname, override ? undefined : reply.headers['content-type']);
	return { bytes, fileName, contentType: checkImage(fileName, bytes) };
}

/** Everything about an item that can be checked before anything is sent for any item. */
async function check(context: OperationContext, itemIndex: number): Promise<void> {
	const options = optionsOf(context.n8n, itemIndex);
	detectBody(options);
	deadlineFrom(options, DEFAULT_TIMEOUT);
	if (fromUrl(context, itemIndex)) checkHttpUrl(context.n8n.getNodeParameter('imageUrl', itemIndex, ''));
	else await imageFromBinary(context, itemIndex, options);
}

async function run(context: OperationContext, itemIndex: number): Promise<INodeExecutionData[]> {
	const { n8n, api } = context;
	const options = optionsOf(n8n, itemIndex);
	const body = detectBody(options);
	const { deadline, timeoutSeconds } = deadlineFrom(options, DEFAULT_TIMEOUT);
	const scope = { itemIndex, deadline };
	const load = fromUrl(context, itemIndex) ? imageFromUrl : imageFromBinary;
	let image: ImageUpload | undefined = await load(context, itemIndex, options, deadline);
	const { fileName } = image;
	const wait = n8n.getNodeParameter('waitForResult', itemIndex, true) as boolean;

	// Your own Document ID, a derived one (the same image and options land on the same document), or a random one.
	const reuse = options.reuseEarlierResult !== false && body.id === undefined;
	const earlier = reuse ? await findEarlier(context, image.bytes, body, scope) : undefined;
	const outcome = { reused: earlier?.answer !== undefined, ...(earlier?.failedBefore ? { earlierAttemptsFailed: earlier.failedBefore } : {}) };
	if (earlier?.answer) {
		const id = earlier.id;
		if (!wait) return [{ json: { id, status: earlier.answer.status, fileName, ...outcome } }];
		return await afterSubmission(n8n, { documentId: id }, async () => await resultOf(context, itemIndex, options, { id, fileName, known: earlier.answer, outcome }, deadline, timeoutSeconds));
	}
	const documentId = earlier?.id ?? (typeof body.id === 'string' ? body.id : randomUUID());
	const submitted = await submitImage(api, image, body, scope, { documentId, nodeMadeId: body.id === undefined });
	image = undefined; // the bytes are not needed while the result is made
	const { id, submittedAt } = submitted;
	if (!wait) return [{ json: { id, status: 'pending', fileName, ...outcome } }];
	return await afterSubmission(n8n, { documentId: id }, async () => await resultOf(context, itemIndex, options, { id, submittedAt, fileName, outcome }, deadline, timeoutSeconds));
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

/** The image's result as the output item: waited for (unless what is known is complete), with its heatmap file. */
async function resultOf(
	context: OperationContext,
	itemIndex: number,
	options: IDataObject,
	document: { id: string; fileName: string; submittedAt?: number; known?: IDataObject; outcome: IDataObject },
	deadline: number,
	timeoutSeconds: number,
): Promise<INodeExecutionData[]> {
	const { n8n } = context;
	const { id, submittedAt, fileName } = document;

	const downloadHeatmap = options.downloadHeatmap === true;
	const settings = {
		deadline,
		timeoutSeconds,
		submittedAt,
		waitForHeatmap: options.waitForHeatmap === true || downloadHeatmap,
		waitForAnalysis: options.waitForAnalysis === true,
		itemIndex,
		label: fileName,
	};
	const answer = document.known && isComplete(document.known, settings) ? document.known : await waitForImage(context, id, settings);
	if (answer.status === 'failed') throw failedDetection(n8n, id, failureReason(answer), itemIndex);

	const json = { ...(options.simplify === false ? answer : simplifyImage(answer, fileName)), ...document.outcome };
	// The checked image rides along, so a storage node after this one can file it by its verdict.
	const output: INodeExecutionData = { json, binary: { ...n8n.getInputData()[itemIndex].binary } };
	if (downloadHeatmap) {
		const heatmap = await fetchAsset(context, 'heatmap', id, settings, answer, true);
		if (heatmap.found) {
			const property = String(options.heatmapBinaryPropertyName || 'heatmap');
			output.binary![property] = await n8n.helpers.prepareBinaryData(heatmap.bytes, heatmap.fileName, heatmap.mimeType);
		} else {
			// The heatmap is optional: an image without one keeps its verdict, and says why it has no file.
			json.heatmapError = heatmap.reason;
		}
	}
	if (!Object.keys(output.binary!).length) delete output.binary;
	return [output];
}

export const detect = perItem(updateDisplayOptions({ show: { resource: ['image'], operation: ['detect'] } }, properties), run, check);
