import type { INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { AssetKind } from '../../api/client';
import { checkDocumentId } from '../../helpers/files';
import type { RunContext } from '../common';
import { concurrencyOption, deadlineFor, documentIdParameter, fetchAssetFile, optionsOf, optionsParameter, timeoutOption } from '../common';

const DEFAULT_TIMEOUT = 120;

/** The parameters of Download Heatmap and Download Preview: the same but for the operation's name. */
export function assetDescription(kind: AssetKind): INodeProperties[] {
	const show = { resource: ['image'], operation: [kind === 'heatmap' ? 'downloadHeatmap' : 'downloadPreview'] };
	return [
		documentIdParameter(show, `The ID of one image (from Detect Image or Bulk Detect) whose ${kind} to download`),
		{
			displayName: 'Put Output File in Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			required: true,
			hint: `The name of the binary property to put the ${kind} in`,
			displayOptions: { show },
		},
		optionsParameter(show, [concurrencyOption, timeoutOption(DEFAULT_TIMEOUT, `the ${kind}`)]),
	];
}

export async function downloadAsset(run: RunContext, itemIndex: number, kind: AssetKind): Promise<INodeExecutionData[]> {
	const { fn } = run;
	const id = checkDocumentId(fn.getNodeParameter('documentId', itemIndex, ''));
	const property = String(fn.getNodeParameter('binaryPropertyName', itemIndex, 'data')).trim() || 'data';
	const options = optionsOf(fn, itemIndex);
	const { deadline, timeoutSeconds } = deadlineFor(options, DEFAULT_TIMEOUT);
	const file = await fetchAssetFile(run, kind, id, { deadline, timeoutSeconds, since: Date.now(), itemIndex });
	const binary = await fn.helpers.prepareBinaryData(file.bytes, file.fileName, file.mimeType);
	return [
		{
			json: {
				id,
				kind,
				...(kind === 'heatmap' ? { heatmapStatus: file.heatmapStatus } : {}),
				fileName: file.fileName,
				mimeType: file.mimeType,
				fileSize: file.bytes.length,
			},
			binary: { [property]: binary },
		},
	];
}
