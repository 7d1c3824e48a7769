// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStateMachine} from "../interfaces/IStateMachine.sol";
import {IDisputeManager} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase, SignedTransaction, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {ADisputeBase} from "./ADisputeBase.sol";

/// @title AFraud
/// @notice Self-contained fraud proofs (invalid transition, equivocation). Accepted whenever
/// the channel is open or disputed, before resolution; they take precedence over any open
/// dispute.
abstract contract AFraud is IDisputeManager, ADisputeBase {
    /// @inheritdoc IDisputeManager
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
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _openOrDisputed(channelId, ch, h, participants, index, dispute);
        Transaction calldata t = fraud.transaction;
        Signatures.verify(_checkTransaction(channelId, ch, t, ch.genesisTimestamp), _signersOf(participants, ch), fraud.signers, fraud.signatures);
        _requireStateHash(previousState, t.previousStateHash);
        if (!_isInvalid(ch.machine, previousState, t)) revert FraudNotProven();
        _convict(channelId, ch, participants, index, dispute, fraud.signers, checkpoint, state);
    }

    /// @inheritdoc IDisputeManager
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
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _openOrDisputed(channelId, ch, h, participants, index, dispute);
        bytes32 a = _checkTransaction(channelId, ch, first.transaction, ch.genesisTimestamp);
        bytes32 b = _checkTransaction(channelId, ch, second.transaction, ch.genesisTimestamp);
        if (a == b || first.transaction.seq != second.transaction.seq) revert EquivocationInvalid();
        Signatures.verify(a, _signersOf(participants, ch), first.signers, first.signatures);
        Signatures.verify(b, _signersOf(participants, ch), second.signers, second.signatures);
        _convict(
            channelId, ch, participants, index, dispute, first.signers & second.signers, checkpoint, state
        );
    }

    /// @dev Whether `t` is not a valid transition of `previousState`: nextActor fails or is not
    /// its actor, or transition fails (reverts, runs out of MACHINE_GAS, or returns anything but
    /// one `bytes` within MAX_STATE_BYTES), or the result's hash differs. The client's pipeline
    /// judges with exactly these rules (an honest participant checks them before signing).
    function _isInvalid(address machine, bytes calldata previousState, Transaction calldata t)
        private
        view
        returns (bool)
    {
        (bool ok, uint256 actor) = _tryNextActor(machine, previousState);
        if (!ok || actor != t.actor) return true;
        bytes memory next;
        (ok, next) =
            _tryState(machine, abi.encodeCall(IStateMachine.transition, (previousState, t.actor, t.data, t.timestamp)));
        return !ok || keccak256(next) != t.stateHash;
    }

    /// @dev Slashes the active, unslashed signers in `signers` in favour of the prover. In an
    /// open channel, or replacing an open timeout, conclude, exit or force-close (whose candidate
    /// may descend from the fraud), a fraud dispute opens from `checkpoint`, the prover's latest
    /// final state, with a fresh deadline. Joining an open fraud dispute adds the culprits and
    /// keeps the deadline: every candidate of a fraud dispute is final (checkpoints and answers
    /// are finality proofs), so the later of the two stays and nothing new needs answering.
    function _convict(
        bytes32 channelId,
        Channel memory ch,
        address[] calldata participants,
        uint256 prover,
        DisputeRecord calldata dispute,
        uint64 signers,
        SignedTransaction[] calldata checkpoint,
        bytes calldata state
    ) private {
        // Already slashed signers are pending removal: nothing more to take from them.
        uint64 culprits = signers & ch.active & ~ch.slashed;
        if (culprits == 0) revert FraudNoCulprit();
        if (Bitmap.has(culprits, prover)) revert FraudProverSigned(prover);
        bool joins = ch.phase == Phase.Disputed && dispute.kind == DisputeKind.Fraud;
        // The record names one prover, the beneficiary of all its culprits: when another prover
        // takes over, the earlier culprits' beneficiary is written down first.
        if (joins && dispute.disputer != prover) _keepBeneficiaries(channelId, dispute.removals, dispute.disputer);
        _slash(channelId, ch, culprits, prover);
        DisputeRecord memory record;
        record.kind = DisputeKind.Fraud;
        record.disputer = uint16(prover);
        record.removals = culprits;
        record.deadline = uint64(block.timestamp) + ch.challengeTime;
        _candidate(record, channelId, ch, participants, checkpoint, false);
        if (joins) {
            record.removals |= dispute.removals;
            record.deadline = dispute.deadline;
            if (record.seq <= dispute.seq) {
                (record.seq, record.timestamp, record.stateHash) = (dispute.seq, dispute.timestamp, dispute.stateHash);
            }
        }
        _requireStateHash(state, record.stateHash);
        _requireResolvable(ch, record.kind, record.removals, state);
        _raise(channelId, ch, record, state, checkpoint);
    }
}
