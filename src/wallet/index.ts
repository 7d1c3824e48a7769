/** Wallets and session keys: the consents a participant's wallet signs, adapters, session keys. */
export { openConsentTypedData, closeConsentTypedData, toEip712Json, typedDataDomain, type ConsentTypedData, type ConsentType, type TypedDataDomain, type TypedDataField } from './typedData.js'
export { consentSignerFromSigner, consentSignerFromEip1193, type ConsentSigner, type Eip1193Provider } from './ConsentSigner.js'
export { requestOpenConsent, requestCloseConsent } from './consents.js'
export { createSessionKey } from './createSessionKey.js'
