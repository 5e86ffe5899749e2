import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { isBulk, simplifyImage } from '../../api/output';
import { checkDocumentId } from '../../helpers/files';
import type { Operation, RunContext } from '../common';
import {
	concurrencyOption,
	deadlineFor,
	documentError,
	optionsOf,
	outputModeParameter,
	simplifyOption,
	timeoutOption,
	waitForAnalysisOption,
	waitForDocument,
	waitForHeatmapOption,
} from '../common';
import { bulkOutput } from './bulkDetect.operation';

const show = { resource: ['image'], operation: ['getResult'] };
const DEFAULT_TIMEOUT = 300;

export const description: INodeProperties[] = [
	{
		displayName: 'Document ID',
		name: 'documentId',
		type: 'string',
		default: '',
		required: true,
		placeholder: '77565038-9e3d-4e6a-8c80-e20785be5ee9',
		description: 'The ID from Detect Image (one image) or Bulk Detect (a batch)',
		displayOptions: { show },
	},
	{
		displayName: 'Wait for Result',
		name: 'waitForResult',
		type: 'boolean',
		default: true,
		description: 'Whether to wait until the document is done. Off: return its state as it is now (pending, analyzing, done or failed).',
		displayOptions: { show },
	},
	outputModeParameter(show),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show },
		options: [concurrencyOption, simplifyOption, timeoutOption(DEFAULT_TIMEOUT, 'the result'), waitForAnalysisOption, waitForHeatmapOption],
	},
];

export async function execute(run: RunContext, itemIndex: number): Promise<INodeExecutionData[]> {
	const { fn, api } = run;
	const id = checkDocumentId(fn.getNodeParameter('documentId', itemIndex, ''));
	const options = optionsOf(fn, itemIndex);
	const { deadline, timeoutSeconds } = deadlineFor(options, DEFAULT_TIMEOUT);
	let answer: IDataObject | null;
	if (fn.getNodeParameter('waitForResult', itemIndex, true)) {
		answer = await waitForDocument(run, id, {
			deadline,
			timeoutSeconds,
			since: Date.now(),
			immediate: true,
			waitForHeatmap: options.waitForHeatmap === true,
			waitForAnalysis: options.waitForAnalysis === true,
			itemIndex,
		});
	} else {
		answer = await api.query(id, itemIndex);
		if (answer === null) {
			throw documentError(fn, `No document with ID ${id} was found`, 'Check the ID: it must come from a Detect Image or Bulk Detect run with the same API account.', id, itemIndex);
		}
	}
	if (isBulk(answer)) {
		const mode = fn.getNodeParameter('outputMode', itemIndex, 'perImage') as string;
		return bulkOutput(answer, { mode, simplify: options.simplify !== false });
	}
	// A failed document is a result too: Get Result reports it rather than failing.
	return [{ json: options.simplify === false ? answer : simplifyImage(answer) }];
}

export const getResult: Operation = { description, execute };
