// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Channel, DisputeKind, DisputeRecord, SignedTransaction, Transaction} from "./ChannelTypes.sol";

/// @title IDisputeEvents
/// @notice The errors and events of the court: what IRespond and IDisputeManager revert with and emit.
interface IDisputeEvents {
    // ─── Callers and phases ──────────────────────────────────────────────────────────────────
    /// @notice Thrown when `participants[index]` is not the caller.
    error CallerNotParticipant(uint256 index, address caller);
    /// @notice Thrown when the calling participant was removed.
    error CallerInactive(uint256 index);
    /// @notice Thrown when the calling participant was slashed (it leaves the active set when the
    /// dispute that slashed it is resolved).
    error CallerSlashed(uint256 index);
    /// @notice Thrown when the caller is the disputer it tries to challenge.
    error CallerIsDisputer(uint256 index);
    /// @notice Thrown when raising a dispute while another one is open.
    error DisputeAlreadyOpen(bytes32 channelId);
    /// @notice Thrown when acting on a dispute of a channel that has none open.
    error DisputeNotOpen(bytes32 channelId);
    /// @notice Thrown when the supplied dispute record is not the stored one.
    error DisputeRecordMismatch(bytes32 channelId);
    /// @notice Thrown when the call does not apply to a dispute of this kind.
    error DisputeKindInvalid(DisputeKind kind);
    /// @notice Thrown when a timeout is raised before the accused's posting deadline passed.
    error DisputeTooEarly(uint256 time, uint256 earliest);
    /// @notice Thrown when a dispute is challenged or answered after its deadline.
    error DisputeExpired(uint256 time, uint256 deadline);
    /// @notice Thrown when a dispute is resolved before its deadline passed.
    error DisputePending(uint256 time, uint256 deadline);
    /// @notice Thrown when a timeout names a candidate older than a move the chain has seen.
    error DisputeStale(uint64 seq, uint64 latestSeq);

    // ─── Candidates ──────────────────────────────────────────────────────────────────────────
    /// @notice Thrown when a transaction list is neither a finality proof nor linked to the
    /// fork's genesis.
    error CandidateNotAnchored();
    /// @notice Thrown when an answer or refutation is not later than the dispute's candidate.
    error CandidateNotLater(uint64 seq, uint64 current);
    /// @notice Thrown when the last transaction of a timeout lacks the disputer's signature.
    error DisputerNotSigned(uint256 disputer);
    /// @notice Thrown when the state's next actor is the disputer or not an active participant
    /// (type(uint256).max: the machine's nextActor failed).
    error AccusedInvalid(uint256 accused);
    /// @notice Thrown when supplied state bytes exceed MAX_STATE_BYTES.
    error StateTooLarge(uint256 length, uint256 max);
    /// @notice Thrown when an exit or force-close is extended after its answer window (the
    /// deadline minus one challenge time).
    error AnswerWindowClosed(uint256 time, uint256 until);

    // ─── Single transactions (posts, responses, refutations, fraud) ──────────────────────────
    /// @notice Thrown when a transaction is for another channel.
    error TransactionChannelMismatch(bytes32 channelId);
    /// @notice Thrown when a transaction is not on the channel's current fork.
    error TransactionForkMismatch(uint64 fork, uint64 current);
    /// @notice Thrown when a posted transaction's author is out of range or removed.
    error TransactionActorInvalid(uint16 actor);
    /// @notice Thrown when a transaction's data exceeds MAX_DATA_BYTES.
    error TransactionDataTooLarge(uint256 length, uint256 max);
    /// @notice Thrown when a transaction is stamped before `earliest` (its parent's timestamp,
    /// or the fork genesis) or after the block's time plus the channel's skew (`latest`).
    error TransactionTimestampInvalid(uint64 timestamp, uint256 earliest, uint256 latest);

    // ─── Fraud ───────────────────────────────────────────────────────────────────────────────
    /// @notice Thrown when the transaction is a valid transition: nothing to slash.
    error FraudNotProven();
    /// @notice Thrown when the prover itself signed the fraudulent transaction(s).
    error FraudProverSigned(uint256 prover);
    /// @notice Thrown when no active participant signed the fraudulent transaction(s).
    error FraudNoCulprit();
    /// @notice Thrown when two transactions are not a conflicting pair at one height.
    error EquivocationInvalid();

    // ─── Events ──────────────────────────────────────────────────────────────────────────────
    /// @notice Emitted when a transaction was posted as calldata; peers treat it exactly like a
    /// broadcast one.
    event TransactionPosted(bytes32 indexed channelId, bytes32 digest, Transaction transaction, bytes signature);
    // The record a call re-supplies follows these events: DisputeRaised sets its phase Disputed
    // (the channel's word then commits to the record's hash and the dispute's), DisputeCancelled
    // sets it Open with latestSeq = seq, ParticipantSlashed adds to `slashed`,
    // ParticipantRemoved takes from `active`; StateSet and ChannelClosed end a resolution.
    /// @notice Emitted when a dispute opened (or a fraud proof replaced or joined the open one).
    /// `state` is the candidate state's bytes; `txs` the signed transactions the call carried (a
    /// timeout's candidate list, an exit's finality proof, a fraud proof's checkpoint) — the
    /// evidence every client checks, published here whatever contract the call came through.
    event DisputeRaised(
        bytes32 indexed channelId, uint64 fork, DisputeRecord dispute, bytes state, SignedTransaction[] txs
    );
    /// @notice Emitted when an answer, an extension or a challenge changed the open dispute;
    /// `dispute` is the record to re-supply from now on, `state` its candidate's bytes, `txs`
    /// the signed transactions the call carried (a proof, an extension, a checkpoint).
    event DisputeAnswered(
        bytes32 indexed channelId, uint64 fork, DisputeRecord dispute, bytes state, SignedTransaction[] txs
    );
    /// @notice Emitted when the accused's move answered a timeout: the channel is open again, its
    /// latest sequence the move's (`transaction.seq`, on the fork `transaction.fork`). The move is
    /// published here as TransactionPosted publishes a post (same fields, same encoding), and a
    /// response emits no TransactionPosted: one log instead of two (1,637 gas).
    event DisputeCancelled(bytes32 indexed channelId, bytes32 digest, Transaction transaction, bytes signature);
    /// @notice Emitted when a dispute was resolved; StateSet (new fork) or ChannelClosed follows.
    event DisputeResolved(bytes32 indexed channelId, uint64 fork, DisputeRecord dispute);
    /// @notice Emitted when a participant left the active set (at the resolution of the timeout,
    /// exit or fraud dispute that removed it).
    event ParticipantRemoved(bytes32 indexed channelId, uint16 index);
    /// @notice Emitted when a participant was slashed: it can no longer act, and at resolution it
    /// is removed and its bond and outcome share go to `beneficiary`.
    event ParticipantSlashed(bytes32 indexed channelId, uint16 index, uint16 beneficiary);
}

/// @title IRespond
/// @notice The accused's response to a timeout: its move cancels the dispute. Served by
/// StateChannelManager itself, not by the court's code behind its fallback, whose delegatecall
/// would add a cold account access (2,600 gas) and a copy of the calldata: a response is the
/// court call an honest participant makes whenever a peer disputes instead of waiting.
interface IRespond is IDisputeEvents {
    /// @notice Challenges a timeout with the accused's move on the candidate state (posted
    /// earlier or supplied now, stamped no earlier than the candidate); cancels the dispute.
    /// The caller supplies only what the chain cannot know of the move (timestamp, data,
    /// stateHash); its other fields are the dispute's: the channel and its fork, seq = the
    /// candidate's seq + 1, actor = the accused (the record's one removal), previousStateHash =
    /// the candidate's state hash. The accused's signature must be on that whole transaction;
    /// DisputeCancelled publishes it.
    /// @param channelId The disputed channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param index The caller's participant index.
    /// @param dispute The open dispute's record.
    /// @param timestamp The accused's move's timestamp, no earlier than the candidate's.
    /// @param data The move's data.
    /// @param stateHash The hash of the state the move leads to.
    /// @param signature The accused's signature on that transaction.
    function respond(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        uint64 timestamp,
        bytes calldata data,
        bytes32 stateHash,
        bytes calldata signature
    ) external;
}

/// @title IDisputeManager
/// @notice The on-chain court: calldata posts, timeout disputes and their challenges, exit and
/// force-close, fraud proofs with slashing, and resolution into a new fork or a settlement. (The
/// accused's response to a timeout, `respond`, is IRespond's.)
/// @dev Only participants may dispute, challenge, answer or prove fraud (`participants[index]`
/// must be msg.sender and active), so the slashed funds a proof earns always go to a party of the
/// channel and a proof copied from the mempool is worthless. Rules: docs/protocol.md, "Disputes".
interface IDisputeManager is IDisputeEvents {
    // ─── Functions ───────────────────────────────────────────────────────────────────────────
    /// @notice Posts a transaction as calldata (data availability when peers do not confirm).
    /// Checks channel, fork, author, data size and timestamp bounds and the author's signature;
    /// stores nothing; emits TransactionPosted.
    /// @param channelId The channel (open).
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param transaction The transaction, on the current fork.
    /// @param signature Its author's 65-byte signature.
    function postTransaction(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        Transaction calldata transaction,
        bytes calldata signature
    ) external;

    /// @notice Raises a timeout: the next actor of the candidate state failed to move. When the
    /// candidate is terminal nobody can move, and the dispute is a Conclude instead: the channel
    /// settles from the candidate at resolution (a winning move others refuse to confirm is
    /// enforced this way).
    /// @param channelId The channel (open).
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param index The caller's participant index.
    /// @param txs Empty (candidate = fork genesis) or a linked list on the current fork, each
    /// signed by its author, that is a finality proof or starts at the genesis; the last one
    /// carries the caller's signature (the latest transaction it signed).
    /// @param state The candidate state's bytes.
    function disputeTimeout(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        SignedTransaction[] calldata txs,
        bytes calldata state
    ) external;

    /// @notice Leaves the channel (`leave`: the others go on) or ends it (force-close: everyone
    /// is settled) from the caller's latest final state. Either way the caller is removed
    /// through the machine's onRemove. Others answer with later final states before the
    /// deadline, or extend the candidate with valid moves during the answer window. An open
    /// timeout is replaced (it could otherwise be cancelled and raised again for ever); any
    /// other open dispute must be resolved first (DisputeAlreadyOpen).
    /// @param channelId The channel (open, or disputed by a timeout).
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param index The caller's participant index.
    /// @param dispute The open timeout's record (ignored when the channel is open).
    /// @param proof Empty (candidate = fork genesis) or a finality proof of the candidate.
    /// @param leave True to leave, false to force-close.
    /// @param state The candidate state's bytes.
    function exit(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction[] calldata proof,
        bool leave,
        bytes calldata state
    ) external;

    /// @notice Answers a dispute with a later final state. On an exit, force-close or fraud
    /// dispute it becomes the candidate (deadline unchanged). On a timeout or conclude it proves
    /// that the disputer lied (it signed a later transaction): the disputer is slashed, and the
    /// dispute becomes a fraud dispute from that state that removes it.
    /// @param channelId The disputed channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param index The caller's participant index.
    /// @param dispute The open dispute's record.
    /// @param proof A finality proof whose first transaction is later than the candidate.
    /// @param state The state bytes of proof[0].
    function answer(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction[] calldata proof,
        bytes calldata state
    ) external;

    /// @notice Moves an exit or force-close forward to a later state reached by valid moves that
    /// are not final yet (their signers withheld confirmations): a list that is a finality
    /// proof of its first entry or starts at the genesis, whose last entry becomes the candidate.
    /// Accepted during the answer window (until the deadline minus one challenge time), so every
    /// extension stays open to fraud proofs for a full challenge time.
    /// @param channelId The disputed channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param index The caller's participant index.
    /// @param dispute The open dispute's record (Exit or ForceClose).
    /// @param txs The anchored list; its last transaction is later than the candidate.
    /// @param state The state bytes of the last transaction.
    function extend(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction[] calldata txs,
        bytes calldata state
    ) external;

    /// @notice Challenges a timeout or conclude with the disputer's own signature on a later
    /// transaction: the disputer lied and is slashed; the dispute becomes a fraud dispute from
    /// the caller's latest final state (the liar's candidate may be invalid).
    /// @param channelId The disputed channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param index The caller's participant index.
    /// @param dispute The open dispute's record.
    /// @param transaction Any transaction on the current fork later than the candidate.
    /// @param signature The disputer's signature on it.
    /// @param checkpoint Empty (fork genesis) or a finality proof: the new candidate.
    /// @param state The checkpoint's state bytes.
    function refute(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        Transaction calldata transaction,
        bytes calldata signature,
        SignedTransaction[] calldata checkpoint,
        bytes calldata state
    ) external;

    /// @notice Proves that signed transaction `fraud` is not a valid transition of
    /// `previousState` (nextActor fails or differs from its actor, transition fails or returns
    /// no valid state, or a different result). Every active signer is slashed in favour of the
    /// caller and removed at resolution; a fraud dispute replaces any other open one, from
    /// `checkpoint`, or joins an open fraud dispute (its later candidate and deadline stay).
    /// @param channelId The channel (open or disputed).
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param index The caller's participant index (must not have signed `fraud`).
    /// @param dispute The open dispute's record (ignored when none is open).
    /// @param fraud The invalid transaction on the current fork with signatures.
    /// @param previousState The state it was applied to.
    /// @param checkpoint Empty (fork genesis) or a finality proof.
    /// @param state The bytes of the resulting dispute's candidate (the checkpoint's, or the
    /// open fraud dispute's when that is later).
    function proveInvalidTransition(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction calldata fraud,
        bytes calldata previousState,
        SignedTransaction[] calldata checkpoint,
        bytes calldata state
    ) external;

    /// @notice Proves equivocation: two different transactions at one height of the current
    /// fork. Every active participant that signed both is slashed in favour of the caller; the
    /// dispute opens, replaces or joins as for proveInvalidTransition.
    /// @param channelId The channel (open or disputed).
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param index The caller's participant index.
    /// @param dispute The open dispute's record (ignored when none is open).
    /// @param first One transaction with signatures.
    /// @param second The other, at the same seq.
    /// @param checkpoint Empty (fork genesis) or a finality proof.
    /// @param state The bytes of the resulting dispute's candidate.
    function proveEquivocation(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction calldata first,
        SignedTransaction calldata second,
        SignedTransaction[] calldata checkpoint,
        bytes calldata state
    ) external;

    /// @notice Resolves a dispute after its deadline (anyone may call): the removals leave
    /// through onRemove; a force-close or conclude settles everyone, otherwise the removed are
    /// paid their outcome share (a slashed one's to whoever proved it) and a new fork starts,
    /// unless the channel must settle (fewer than two left, a terminal or stuck state).
    /// @param channelId The disputed channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param dispute The open dispute's record.
    /// @param state The candidate state's bytes.
    function resolve(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        DisputeRecord calldata dispute,
        bytes calldata state
    ) external;
}
