// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Everything the participants agree on when they open a channel. The channel id is the
/// EIP-712 digest of this struct (domain "Parley", chain id, manager address), which is also
/// exactly what every participant signs to consent.
struct ChannelParams {
    /// Ordered participant accounts; the index is the participant's identity (2..64 of them).
    address[] participants;
    /// Session keys: participant i's in-channel signer (transactions, confirmations, and so every
    /// finality proof, dispute, fraud proof and slashing). Empty: each participant signs with its
    /// own account. Otherwise one per participant, nonzero, and no address twice among
    /// participants and signers. Open and close consents, calls and payouts stay the
    /// participant's own account's.
    address[] signers;
    /// The IStateMachine contract whose rules the channel follows.
    address machine;
    /// address(0) for ETH, otherwise an ERC-20 token.
    address asset;
    /// Amount each participant locks for the machine's outcome (index = participant).
    uint256[] deposits;
    /// Amount every participant locks on top of its deposit; returned unless slashed.
    uint256 bond;
    /// Seconds the next actor has to broadcast its transaction.
    uint32 p2pTime;
    /// Seconds for confirmations to arrive after p2pTime.
    uint32 agreementTime;
    /// Seconds to post a transaction on-chain after p2pTime + agreementTime.
    uint32 chainFallbackTime;
    /// Seconds a dispute can be challenged.
    uint32 challengeTime;
    /// Any value; makes the id of otherwise identical channels unique.
    bytes32 salt;
    /// Passed to the machine's initialState.
    bytes initData;
    /// Last block time at which `open` accepts these consents: a consent left unused cannot be
    /// replayed into a channel its signers no longer want, whenever someone gathers the rest.
    uint64 openDeadline;
}

/// @notice One step of a channel's state machine (EIP-712 type "Transaction").
struct Transaction {
    bytes32 channelId;
    /// Epoch; every state the chain enforces starts a new fork.
    uint64 fork;
    /// Height within the fork; the fork's genesis is seq 0, so transactions start at 1.
    uint64 seq;
    /// Author's logical-clock time in seconds.
    uint64 timestamp;
    /// Index of the author, which must be the machine's nextActor of the previous state.
    uint16 actor;
    /// keccak256 of the state this transaction is applied to.
    bytes32 previousStateHash;
    /// The move, interpreted by the machine.
    bytes data;
    /// keccak256 of the state that transition(previous, actor, data, timestamp) returns.
    bytes32 stateHash;
}

/// @notice A transaction with the signatures collected on it.
struct SignedTransaction {
    Transaction transaction;
    /// Bitmap of the participants whose signatures follow (bit i = participant i).
    uint64 signers;
    /// 65-byte (r, s, v) signatures over the transaction's EIP-712 digest, concatenated in
    /// ascending participant order of `signers`.
    bytes signatures;
}

/// @notice Lifecycle of a channel. None → Open → (Disputed ↔ Open) → Closed.
enum Phase {
    None,
    Open,
    Disputed,
    Closed
}

/// @notice A channel's record. The manager stores none of it: one word per channel holds a
/// commitment to it (see ACore: its hash, or while a dispute is open the hash of its hash and the
/// DisputeRecord, or after closeToClaims the hash of its hash and the claims), with the phase in
/// the word's two low bits. Every call about an open channel re-supplies the record as it was
/// last committed to; a client rebuilds it from the channel's events (ChannelOpened carries the
/// record at the open, and every later change is in StateSet, DisputeRaised, DisputeCancelled,
/// ParticipantSlashed, ParticipantRemoved and ChannelClosed). Before the open, the word holds the
/// channel's funding (phase None, see fund).
struct Channel {
    address machine;
    /// Epoch; grows by one per resolved dispute, at most once per challengeTime.
    uint40 fork;
    Phase phase;
    uint8 n;
    address asset;
    uint32 p2pTime;
    uint32 agreementTime;
    uint32 chainFallbackTime;
    uint32 challengeTime;
    uint64 active;
    uint64 slashed;
    uint40 genesisTimestamp;
    /// The latest move the chain has seen on this fork outside a finality proof (the accused's
    /// response that cancelled a timeout); a timeout must not name an older candidate.
    uint64 latestSeq;
    /// keccak256(abi.encodePacked(members)), where members = participants ‖ signers (just
    /// participants when signers is empty): every call passes this member list.
    bytes32 participantsHash;
    bytes32 genesisStateHash;
    uint128 locked;
    uint128 bond;
}

/// @notice Kinds of on-chain dispute (see docs/protocol.md, "Disputes").
enum DisputeKind {
    None,
    /// The next actor of the candidate state failed to move; it is removed at resolution.
    Timeout,
    /// The disputer leaves from its latest final state; it is removed at resolution (the
    /// machine's onRemove decides what leaving means) and the others go on.
    Exit,
    /// The disputer ends the channel from its latest final state: like an exit (the disputer is
    /// removed through onRemove, so leaving never pays more than the machine grants a leaver),
    /// then everyone is settled.
    ForceClose,
    /// Proven fraud: the culprits were slashed at once and are removed at resolution; a new fork
    /// starts from the candidate (a state final under the active set) unless the channel settles.
    Fraud,
    /// The disputer's latest signed transaction reached a terminal state that is not final (the
    /// others withheld their signatures): the channel settles from it at resolution unless the
    /// disputer is shown to have signed something later or fraud is proven.
    Conclude
}

/// @notice An open dispute. The manager keeps only a commitment to it (in the channel's word,
/// with the channel's record); every call that acts on the dispute re-supplies the record, taken
/// from the latest DisputeRaised or DisputeAnswered event of the channel.
struct DisputeRecord {
    DisputeKind kind;
    /// Participant index that raised the dispute (for Fraud: the latest prover).
    uint16 disputer;
    /// Height of the candidate state on the current fork (0 = the fork's genesis).
    uint64 seq;
    /// Timestamp of the candidate (its transaction's, or the fork's genesis timestamp): the
    /// accused's response to a timeout must not be stamped before it.
    uint64 timestamp;
    /// Last second at which the dispute can be challenged or answered; resolvable after it.
    uint64 deadline;
    /// Participants removed at resolution. Timeout: exactly the accused (the candidate's next
    /// actor); Exit and ForceClose: the disputer; Conclude: none; Fraud: the culprits, slashed
    /// at once and removed at resolution.
    uint64 removals;
    /// keccak256 of the candidate state: the state the dispute resolves from.
    bytes32 stateHash;
}
