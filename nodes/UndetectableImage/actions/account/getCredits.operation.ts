import type { IDataObject } from 'n8n-workflow';

import { timing } from '../../transport/timing';
import { toolDescriptionParameter } from '../image/parameters';
import { perItem } from '../operation';

const TOOL_DESCRIPTION =
	'Returns the credits left on the Undetectable AI account (credits). Each new image detection costs one credit; results of ' +
	'images checked before, and this call, cost nothing. Takes no input.';

export const getCredits = perItem([{ ...toolDescriptionParameter(TOOL_DESCRIPTION), displayOptions: { show: { resource: ['account'], operation: ['getCredits'], '@tool': [true] } } }], async (context, itemIndex) => {
	const answer = await context.api.credits({ itemIndex, deadline: Date.now() + timing.checkCreditsBoundMs });
	const json: IDataObject = { credits: typeof answer.credits === 'number' ? answer.credits : null };
	// External integrations get `credits` only; the split is passed on when the API gives it.
	if (typeof answer.baseCredits === 'number') json.baseCredits = answer.baseCredits;
	if (typeof answer.boostCredits === 'number') json.boostCredits = answer.boostCredits;
	return [{ json }];
});
