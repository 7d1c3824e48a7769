// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Channel, ChannelParams, SignedTransaction, Transaction, Phase} from "./ChannelTypes.sol";

/// @title IBalancesEvents
/// @notice Errors and events of the manager's balances (apart from the functions, so the
/// court, which credits balances but has no balance functions, can use them).
interface IBalancesEvents {
    /// @notice Thrown when an amount is zero where a positive amount is required.
    error BalanceAmountZero();
    /// @notice Thrown when msg.value does not match an ETH deposit, or is sent with a token.
    error BalanceValueMismatch(uint256 value, uint256 amount);
    /// @notice Thrown when an account has less than it tries to use.
    error BalanceInsufficient(address account, address asset, uint256 available, uint256 needed);
    /// @notice Thrown when a token address has no code.
    error BalanceAssetInvalid(address asset);
    /// @notice Thrown when sending ETH to the recipient fails.
    error BalanceTransferFailed(address to, uint256 amount);
    /// @notice Thrown when the recipient is the zero address.
    error BalanceRecipientInvalid();

    /// @notice Emitted when `account`'s balance of `asset` grew by a deposit.
    event Deposited(address indexed account, address indexed asset, uint256 amount);
    /// @notice Emitted when `account` withdrew `amount` of `asset` to `to`.
    event Withdrawn(address indexed account, address indexed asset, address to, uint256 amount);
    /// @notice Emitted when settlement credited `amount` of `asset` to `account`.
    event Credited(bytes32 indexed channelId, address indexed account, address indexed asset, uint256 amount);
}

/// @title IBalances
/// @notice Per-account balances held by the manager, per asset (address(0) = ETH).
interface IBalances is IBalancesEvents {
    /// @notice Deposits `amount` of `asset` for `account` (send ETH as msg.value).
    /// @dev For tokens the credited amount is what the manager actually received.
    /// @param asset address(0) for ETH, otherwise an ERC-20 token approved to the manager.
    /// @param account Whose balance grows (anyone may fund anyone).
    /// @param amount The amount to deposit; for ETH it must equal msg.value.
    function deposit(address asset, address account, uint256 amount) external payable;

    /// @notice Withdraws `amount` of `asset` from the caller's balance to `to`.
    /// @param asset address(0) for ETH, otherwise an ERC-20 token.
    /// @param amount The amount to withdraw.
    /// @param to The recipient.
    function withdraw(address asset, uint256 amount, address to) external;

    /// @notice The balance of `account` in `asset` that it may use or withdraw.
    /// @param account The account.
    /// @param asset address(0) for ETH, otherwise an ERC-20 token.
    /// @return The balance.
    function balanceOf(address account, address asset) external view returns (uint256);
}

/// @title IChannelsEvents
/// @notice Errors and events of channels, signatures, proofs, machine calls and settlement,
/// shared by the manager and its court (apart from the functions each implements).
interface IChannelsEvents {
    // ─── Open ────────────────────────────────────────────────────────────────────────────────
    /// @notice Thrown when the participant count is outside 2..64.
    error ChannelParticipantCountInvalid(uint256 n);
    /// @notice Thrown when a participant is the zero address.
    error ChannelParticipantInvalid(uint256 index);
    /// @notice Thrown when an account appears twice among the participants.
    error ChannelParticipantDuplicate(uint256 index, address participant);
    /// @notice Thrown when `signers` is neither empty nor one per participant.
    error ChannelSignerCountMismatch(uint256 participants, uint256 signers);
    /// @notice Thrown when a signer (session key) is the zero address.
    error ChannelSignerInvalid(uint256 index);
    /// @notice Thrown when a signer is a participant or another participant's signer too.
    error ChannelSignerDuplicate(uint256 index, address signer);
    /// @notice Thrown when deposits and participants differ in length.
    error ChannelDepositsLengthMismatch(uint256 participants, uint256 deposits);
    /// @notice Thrown when the machine address has no code.
    error ChannelMachineInvalid(address machine);
    /// @notice Thrown when a time parameter is zero or above the maximum (index: 0 p2pTime,
    /// 1 agreementTime, 2 chainFallbackTime, 3 challengeTime).
    error ChannelTimeInvalid(uint256 which, uint256 value);
    /// @notice Thrown when the locked total or bond does not fit in 128 bits.
    error ChannelAmountTooLarge();
    /// @notice Thrown when `open` comes after the consents' openDeadline (block time).
    error ChannelConsentExpired(uint64 openDeadline, uint256 time);
    /// @notice Thrown when a channel with this id was already opened.
    error ChannelExists(bytes32 channelId);
    /// @notice Thrown when the channel is not in the phase the call needs.
    error ChannelNotOpen(bytes32 channelId, Phase phase);
    /// @notice Thrown when the supplied participant list is not the channel's.
    error ChannelParticipantsMismatch(bytes32 channelId);
    /// @notice Thrown when the supplied channel record is not the one the channel's word commits
    /// to (a stale or forged record; rebuild it from the channel's events).
    error ChannelRecordMismatch(bytes32 channelId);
    /// @notice Thrown when a claim is made on a channel that is not closed.
    error ChannelNotClosed(bytes32 channelId, Phase phase);
    /// @notice Thrown when the supplied payouts and claimed bitmap are not the channel's recorded
    /// claims (or the channel was not closed to claims).
    error ClaimsMismatch(bytes32 channelId);
    /// @notice Thrown when `which` is empty, names an entry already claimed, or one with nothing
    /// to claim (no payout and no bond), or an index at or above n.
    error ClaimsInvalid(bytes32 channelId, uint64 which, uint64 claimed);

    // ─── Signatures ──────────────────────────────────────────────────────────────────────────
    /// @notice Thrown when the signer bitmap names an index at or above n.
    error SignerIndexOutOfRange(uint64 signers, uint256 n);
    /// @notice Thrown when the signature bytes are not 65 bytes per signer.
    error SignaturesLengthInvalid(uint256 expected, uint256 actual);
    /// @notice Thrown when a signature's s is in the upper half order (malleable).
    error SignatureMalleable(uint256 index);
    /// @notice Thrown when a signature does not recover to any address (bad v, r or s).
    error SignatureInvalid(uint256 index);
    /// @notice Thrown when a signature recovers to an account that is not a participant.
    error SignerNotParticipant(uint256 index, address recovered);
    /// @notice Thrown when a signature in slot `index` is another signer's, already present.
    error SignatureDuplicate(uint256 index, address signer);
    /// @notice Thrown when the signature in slot `index` belongs to another participant.
    error SignerMismatch(uint256 index, address recovered);
    /// @notice Thrown when a removed participant's signature is supplied.
    error SignerInactive(uint256 index);
    /// @notice Thrown when fewer active participants signed than the threshold.
    error SignaturesBelowThreshold(uint256 count, uint256 threshold);

    // ─── Finality proofs ─────────────────────────────────────────────────────────────────────
    /// @notice Thrown when a proof has no transactions or more than the active participants.
    error ProofLengthInvalid(uint256 length, uint256 max);
    /// @notice Thrown when proof transaction `i` is for another channel.
    error ProofChannelMismatch(uint256 i);
    /// @notice Thrown when proof transaction `i` is not on the channel's current fork.
    error ProofForkMismatch(uint256 i, uint64 fork, uint64 current);
    /// @notice Thrown when proof transaction `i` has seq 0 or does not follow transaction i-1.
    error ProofNotLinked(uint256 i);
    /// @notice Thrown when the author of proof transaction `i` is out of range or removed.
    error ProofActorInvalid(uint256 i, uint16 actor);
    /// @notice Thrown when proof transaction `i` lacks its author's signature.
    error ProofActorNotSigned(uint256 i, uint16 actor);
    /// @notice Thrown when the proof's signers do not cover every active participant.
    error ProofNotFinal(uint64 missing);
    /// @notice Thrown when the data of list transaction `i` exceeds MAX_DATA_BYTES.
    error ProofDataTooLarge(uint256 i, uint256 length, uint256 max);
    /// @notice Thrown when list transaction `i` is stamped before its parent (the fork genesis
    /// for the first entry) or after the block's time plus the channel's skew.
    error ProofTimestampInvalid(uint256 i, uint64 timestamp, uint256 earliest, uint256 latest);

    // ─── Close and settlement ────────────────────────────────────────────────────────────────
    /// @notice Thrown when supplied state bytes do not hash to the proven state hash.
    error StateHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice Thrown when concluding from a state the machine says is not terminal.
    error StateNotTerminal(bytes32 stateHash);
    /// @notice Thrown when a call to the machine reverts, runs out of its gas cap or returns more
    /// data than its type can need (`reason`: the revert data when within that bound).
    error MachineCallFailed(bytes4 selector, bytes reason);
    /// @notice Thrown when a machine call returns data that is not exactly its declared type
    /// (or a state above MAX_STATE_BYTES).
    error MachineResultInvalid(bytes4 selector);
    /// @notice Thrown when the caller left too little gas for a capped machine call.
    error MachineGasTooLow(uint256 available, uint256 needed);
    /// @notice Thrown when the machine's outcome has the wrong length.
    error OutcomeLengthInvalid(uint256 length, uint256 n);
    /// @notice Thrown when fund finds another amount already funded than the caller expected.
    error FundingMoved(uint256 expected, uint256 held);
    /// @notice Thrown when fund names another asset than the channel's funding so far.
    error FundingAssetMismatch(address funded, address asset);
    /// @notice Thrown when reclaim is called while the funding may still be used: the channel may
    /// still open (its consents expire after `openDeadline`).
    error FundsInUse(bytes32 channelId);
    /// @notice Thrown when reclaim finds nothing funded.
    error FundsNone(bytes32 channelId);
    /// @notice Thrown when the machine's outcome pays more than the locked deposits.
    error OutcomeExceedsLocked(uint256 total, uint256 locked);
    /// @notice Thrown when a close's payouts give something to participant `index`, which is not
    /// active (a removed participant was paid at its removal).
    error PayoutToInactive(uint256 index);
    /// @notice Thrown when a close's `others` has fewer addresses (`length`) than the channel has
    /// inactive participants (`minimum`).
    error CloseOthersInvalid(uint256 length, uint256 minimum);
    /// @notice Thrown when the accounts recovered from a close's consents, with its `others`, are
    /// not the channel's member list: a consent signed by another key, or over other terms
    /// (another fork, state hash or payouts), or `others` not the channel's other members.
    error CloseSignersMismatch(bytes32 channelId);

    // ─── Events ──────────────────────────────────────────────────────────────────────────────
    /// @notice Emitted when a channel opened, with its record (what every later call
    /// re-supplies, as the channel's events change it). Its parameters are the open
    /// transaction's calldata (the channel id is their EIP-712 digest); its genesis state
    /// follows in StateSet.
    event ChannelOpened(bytes32 indexed channelId, Channel record);
    /// @notice Emitted when `amount` of `asset` was funded into a channel not yet open; `held` is
    /// the channel's funding in that asset afterwards (what the next fund call expects).
    event Funded(bytes32 indexed channelId, address indexed asset, uint256 amount, uint256 held);
    /// @notice Emitted when an open found its channel funded in another asset and set that
    /// funding aside: reclaim returns it to the participants.
    event FundingSetAside(bytes32 indexed channelId, address indexed asset, uint256 amount);
    /// @notice Emitted when reclaim credited a channel's unused funding back to its participants
    /// (Credited per participant).
    event FundsReclaimed(bytes32 indexed channelId, address indexed asset, uint256 amount);
    /// @notice Emitted when the chain set the genesis state of a fork (fork 0 at open). Carries
    /// the full state so a peer can recover from chain data alone, and what the record holds from
    /// then on: phase Open, the fork, the genesis hash and time, the active set, the locked
    /// amount, latestSeq 0.
    event StateSet(
        bytes32 indexed channelId,
        uint64 indexed fork,
        bytes32 stateHash,
        bytes state,
        uint64 timestamp,
        uint64 active,
        uint128 locked
    );
    /// @notice Emitted when a channel closed and its funds became withdrawable (its record now
    /// has phase Closed and locked 0).
    event ChannelClosed(bytes32 indexed channelId, uint64 fork, bytes32 stateHash, uint256[] payouts);
    /// @notice Emitted after ChannelClosed when closeToClaims recorded the payouts as claims
    /// (nothing paid yet; see claim).
    event ClaimsRecorded(bytes32 indexed channelId);
    /// @notice Emitted when claim paid recorded claims: `claimed` is the new bitmap of entries
    /// claimed so far (what the next claim re-supplies), `sent` the entries of this call sent to
    /// their payee's account; the others of this call were credited (Credited).
    event PayoutsClaimed(bytes32 indexed channelId, uint64 claimed, uint64 sent);
    /// @notice Emitted after ChannelClosed when the settlement sent the payouts (closeAndPay):
    /// `sent` has bit i set when payout i (with its bond) went straight to its payee's account;
    /// every other non-zero payout was credited in the manager (Credited).
    event ChannelPaidOut(bytes32 indexed channelId, uint64 sent);
}

/// @title IStateChannelManager
/// @notice Opens channels, verifies finality proofs, closes and settles. The accused's response
/// to a timeout (IRespond) is served here too; the court's functions (IDisputeManager), reclaim
/// (IReclaim), the views of IChannelViews (k-of-N signature checks among them) and the EIP-712
/// domain (ERC-5267) are served by the same address.
interface IStateChannelManager is IBalances, IChannelsEvents {
    // ─── Functions ───────────────────────────────────────────────────────────────────────────
    /// @notice Opens a channel: checks every participant's consent signature, locks deposits and
    /// bonds and runs the machine's initialState, all or nothing. The channel's funding (fund)
    /// covers participants in order — participant 0's deposit and bond first, then 1's, and so
    /// on — and whatever it does not cover is taken from each participant's balance; funding
    /// beyond every deposit and bond joins the locked deposits (shared like any remainder).
    /// @param params The channel parameters.
    /// @param signatures One 65-byte signature per participant, in participant order, over the
    /// EIP-712 digest of `params` (= the channel id).
    /// @return channelId The id of the new channel.
    function open(ChannelParams calldata params, bytes calldata signatures) external returns (bytes32 channelId);

    /// @notice Settles a channel from a final, terminal state.
    /// @param channelId The channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param proof A finality proof of the state's transaction (see verifyFinalityProof).
    /// @param state The state bytes of proof[0].
    function conclude(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        SignedTransaction[] calldata proof,
        bytes calldata state
    ) external;

    /// @notice Settles a channel on terms every active participant signed with its own account
    /// (EIP-712 type CloseChannel(channelId, fork, stateHash, payouts)): the consents are the
    /// whole authority, so the machine is not called — `stateHash` names the state the
    /// participants closed on (it is emitted, not checked), `payouts` is what each participant
    /// gets of the locked deposits (the machine's outcome of that state, as the clients compute
    /// it), zero for inactive participants. Whatever the payouts leave of the locked deposits is
    /// split equally among active participants (dust to the lowest active index), and each
    /// active participant also gets its bond back, credited in the manager. The member list is
    /// not passed: the contract recovers the active participants' accounts from their consents
    /// and checks them, with `others`, against the channel's participantsHash. Emits a Credited
    /// per credit, then ChannelClosed.
    /// @param channelId The channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param stateHash keccak256 of the closing state.
    /// @param payouts Participant i's share of the locked deposits (n entries; 0 when inactive).
    /// @param others The members not recovered from a consent, in member-list order: the inactive
    /// participants' accounts, then every session key (when the channel has them).
    /// @param signatures One consent per active participant (65 bytes each, r ‖ s ‖ v), in
    /// ascending participant order.
    function close(
        bytes32 channelId,
        Channel calldata channel,
        bytes32 stateHash,
        uint256[] calldata payouts,
        address[] calldata others,
        bytes calldata signatures
    ) external;

    /// @notice Settles like `close` and pays every participant in the same transaction: each
    /// payout (with its bond) is sent to the participant's account (ETH with at most
    /// PUSH_GAS_ETH gas for its receive hook; a token's transfer with at most PUSH_GAS_TOKEN),
    /// and credited in the manager instead where that transfer fails, reverts or returns false
    /// (so no recipient can block the others). Emits ChannelClosed, a Credited per credit, then
    /// ChannelPaidOut.
    /// @param channelId The channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param stateHash keccak256 of the closing state.
    /// @param payouts Participant i's share of the locked deposits (see `close`).
    /// @param others The members not recovered from a consent (see `close`).
    /// @param signatures One consent per active participant, in ascending participant order.
    function closeAndPay(
        bytes32 channelId,
        Channel calldata channel,
        bytes32 stateHash,
        uint256[] calldata payouts,
        address[] calldata others,
        bytes calldata signatures
    ) external;

    /// @notice Settles like `conclude` (same proof and checks) but pays nobody yet: each
    /// participant's payout plus bond is recorded as a claim, which `claim` pays later, as
    /// closeToClaims does. Emits ChannelClosed then ClaimsRecorded.
    /// @param channelId The channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param proof A finality proof of the state's transaction (see verifyFinalityProof).
    /// @param state The state bytes of proof[0].
    function concludeToClaims(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        SignedTransaction[] calldata proof,
        bytes calldata state
    ) external;

    /// @notice Settles like `close` (same consent and checks) but pays nobody yet: each
    /// participant's payout plus bond is recorded as a claim, which `claim` pays later. Writes no
    /// storage per participant (the claims are a commitment in the channel's word).
    /// Emits ChannelClosed then ClaimsRecorded.
    /// @param channelId The channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param stateHash keccak256 of the closing state.
    /// @param payouts Participant i's share of the locked deposits (see `close`).
    /// @param others The members not recovered from a consent (see `close`).
    /// @param signatures One consent per active participant, in ascending participant order.
    function closeToClaims(
        bytes32 channelId,
        Channel calldata channel,
        bytes32 stateHash,
        uint256[] calldata payouts,
        address[] calldata others,
        bytes calldata signatures
    ) external;

    /// @notice Pays recorded claims (of a channel closed by closeToClaims): entry i of `which` gets
    /// `payouts[i]` plus the bond (if the participant was active) sent to its account as
    /// closeAndPay does, or credited in the manager where sending fails. Anyone may call it; each
    /// entry is paid once. Emits PayoutsClaimed.
    /// @param channelId The channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param payouts The payouts of the channel's ChannelClosed event.
    /// @param claimed The bitmap of entries claimed so far (0, or the latest PayoutsClaimed's).
    /// @param which The entries to pay now (each must have a payout or a bond, and be unclaimed).
    function claim(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256[] calldata payouts,
        uint64 claimed,
        uint64 which
    ) external;

    /// @notice Verifies a finality proof on the channel's current fork: a linked sequence of
    /// transactions, each signed by its author, whose signers together cover every active
    /// participant. Proves proof[0] final (virtual voting).
    /// @param channelId The channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param proof The transactions, oldest first (at most the number of active participants).
    /// @return stateHash The final state's hash (proof[0].stateHash).
    /// @return seq The final transaction's height.
    function verifyFinalityProof(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        SignedTransaction[] calldata proof
    ) external view returns (bytes32 stateHash, uint64 seq);

    /// @notice Funds a channel that is not open yet, straight from the caller (ETH as
    /// msg.value, or an ERC-20 token approved to the manager): no balance slot per participant.
    /// Funding is ordered: participant i funds when `held` is the sum of the deposits and bonds
    /// of participants 0..i-1, so the amount held tells who funded (open and reclaim rely on it).
    /// A channel's funding is in one asset (the first funder's) and at most 2^94 - 1; a channel
    /// needing more locks it from balances.
    /// @param channelId The channel id the participants' consents sign (channelIdOf).
    /// @param asset address(0) for ETH, otherwise the token.
    /// @param expectedHeld The funding the caller expects to find (else FundingMoved): a
    /// transaction that lost a race reverts instead of funding someone else's share.
    /// @param amount The amount; for ETH it must equal msg.value. For tokens the funding grows by
    /// what the manager actually received.
    function fund(bytes32 channelId, address asset, uint256 expectedHeld, uint256 amount) external payable;
}

/// @title IReclaim
/// @notice The recovery of a funding no open will use. Served by the court (through the
/// manager's fallback, at the manager's address, on its storage) rather than by the manager
/// itself: it is rarely called, and every selector the manager serves lengthens the dispatch
/// that every call to the manager runs (deposit and withdraw included).
interface IReclaim is IChannelsEvents {
    /// @notice Credits a funding no open will use back to the participants' balances, in funding
    /// order: participant i gets what the funding holds of its deposit and bond; anything beyond
    /// all of them is split equally, dust to participant 0. That is the funding of a channel that
    /// never opened, once its consents have expired (after `params.openDeadline`), or the
    /// funding in another asset that an open set aside (FundingSetAside), at any time. Anyone may
    /// call it.
    /// @param params The channel's parameters (their digest is the channel id).
    function reclaim(ChannelParams calldata params) external;
}
