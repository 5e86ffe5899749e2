import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export const DEFAULT_API_BASE_URL = 'https://ai-image-detect.undetectable.ai';
export const DEFAULT_STORAGE_BASE_URL = 'https://ai-image-detector-prod.nyc3.digitaloceanspaces.com';
/**
 * What is cleaned off a pasted key, everywhere it is sent (the header here, the body in the node): white space
 * (a trailing newline, say) and invisible characters (zero-width spaces and joiners, the byte-order mark).
 */
export const KEY_NOISE = /[\s\u200B-\u200D\u2060\uFEFF]/g;

export class UndetectableImageApi implements ICredentialType {
	name = 'undetectableImageApi';

	displayName = 'Undetectable AI Image Detector API';

	icon: Icon = { light: 'file:../icons/undetectableImage.svg', dark: 'file:../icons/undetectableImage.dark.svg' };

	documentationUrl = 'https://github.com/undetectable-image/n8n-nodes-undetectable-image#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'Your API key from the Undetectable.AI developer portal',
		},
		{
			displayName: 'API Base URL',
			name: 'baseUrl',
			type: 'string',
			default: DEFAULT_API_BASE_URL,
			description:
				'The AI Image Detector API. The API key is sent to this host only. Change it only for a dedicated deployment or a test server.',
		},
		{
			displayName: 'Storage Base URL',
			name: 'storageBaseUrl',
			type: 'string',
			default: DEFAULT_STORAGE_BASE_URL,
			description:
				'Where uploaded images are stored. Detection is requested for <Storage Base URL>/<file path>. The API key is never sent here.',
		},
	];

	// The API reads the key from the `apikey` header on GET endpoints; the POST endpoints that need it take it in
	// the JSON body, which the node adds itself (to API-host requests only). Both are cleaned by KEY_NOISE.
	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				apikey: '={{$credentials.apiKey.replace(/[\\s\\u200B-\\u200D\\u2060\\uFEFF]/g, "")}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/check-user-credits',
			method: 'GET',
			// A redirect fails the test rather than carrying the key to wherever it points.
			disableFollowRedirect: true,
		},
	};
}
