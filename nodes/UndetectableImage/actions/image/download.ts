// Download Heatmap and Download Preview: the same operation but for the kind of file.
import type { INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { AssetKind } from '../../api/client';
import { fetchAsset } from '../../api/handshake';
import { checkDocumentId } from '../../helpers/files';
import { documentError } from '../../transport/errors';
import type { Operation } from '../operation';
import { perItem } from '../operation';
import { concurrencyOption, deadlineFrom, documentIdParameter, optionsOf, optionsParameter, timeoutOption, toolDescriptionParameter, withToolDefault } from './parameters';

const DEFAULT_TIMEOUT = 120;

export function downloadOperation(kind: AssetKind): Operation {
	const operation = kind === 'heatmap' ? 'downloadHeatmap' : 'downloadPreview';
	const properties: INodeProperties[] = [
		toolDescriptionParameter(
			`Not useful to an AI model: it downloads the ${kind} image of an earlier detection as a file, which no model can see; ` +
				'it returns only the file\'s name, type and size. Pass documentId: the id an earlier Detect returned. No credit.',
		),
		...withToolDefault(
			documentIdParameter(`The ID of one image (from Detect or Bulk Detect) whose ${kind} to download`),
			"={{ $fromAI('documentId', 'The id of an earlier detection: a UUID such as 77565038-9e3d-4e6a-8c80-e20785be5ee9', 'string') }}",
		),
		{
			displayName: 'Put Output File in Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			required: true,
			hint: `The name of the binary property to put the ${kind} in`,
		},
		optionsParameter([concurrencyOption, timeoutOption(DEFAULT_TIMEOUT, `the ${kind}`)]),
	];
	return perItem(
		updateDisplayOptions({ show: { resource: ['image'], operation: [operation] } }, properties),
		async (context, itemIndex) => {
			const { n8n } = context;
			const id = checkDocumentId(n8n.getNodeParameter('documentId', itemIndex, ''));
			const property = String(n8n.getNodeParameter('binaryPropertyName', itemIndex, 'data')).trim() || 'data';
			const wait = { ...deadlineFrom(optionsOf(n8n, itemIndex), DEFAULT_TIMEOUT), itemIndex };
			const file = await fetchAsset(context, kind, id, wait);
			if (!file.found) throw documentError(n8n, file.reason, file.hint, { documentId: id }, itemIndex);
			const binary = await n8n.helpers.prepareBinaryData(file.bytes, file.fileName, file.mimeType);
			const json = {
				id,
				kind,
				...(kind === 'heatmap' ? { heatmapStatus: file.heatmapStatus } : {}),
				fileName: file.fileName,
				mimeType: file.mimeType,
				fileSize: file.bytes.length,
			};
			return [{ json, binary: { [property]: binary } }];
		},
		async (context, itemIndex) => {
			checkDocumentId(context.n8n.getNodeParameter('documentId', itemIndex, ''));
			deadlineFrom(optionsOf(context.n8n, itemIndex), DEFAULT_TIMEOUT);
		},
	);
}
