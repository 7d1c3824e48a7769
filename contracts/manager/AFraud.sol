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
abstract contract AFraud is ADisputeBase {
    /// @inheritdoc IDisputeManager
    function proveInvalidTransition(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction calldata fraud,
        bytes calldata previousState,
        SignedTransaction[] calldata checkpoint
    ) external {
        (Channel storage ch, bytes32 participantsHash) = _fraudChannel(channelId, participants, index, dispute);
        Transaction calldata t = fraud.transaction;
        Signatures.verify(_onFork(channelId, ch, t), participants, fraud.signers, fraud.signatures);
        _requireStateHash(previousState, t.previousStateHash);
        if (!_isInvalid(ch.machine, previousState, t)) revert FraudNotProven();
        _convict(channelId, ch, participants, participantsHash, index, dispute, fraud.signers, checkpoint);
    }

    /// @inheritdoc IDisputeManager
    function proveEquivocation(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction calldata first,
        SignedTransaction calldata second,
        SignedTransaction[] calldata checkpoint
    ) external {
        (Channel storage ch, bytes32 participantsHash) = _fraudChannel(channelId, participants, index, dispute);
        bytes32 a = _onFork(channelId, ch, first.transaction);
        bytes32 b = _onFork(channelId, ch, second.transaction);
        if (a == b || first.transaction.seq != second.transaction.seq) revert EquivocationInvalid();
        Signatures.verify(a, participants, first.signers, first.signatures);
        Signatures.verify(b, participants, second.signers, second.signatures);
        _convict(channelId, ch, participants, participantsHash, index, dispute, first.signers & second.signers, checkpoint);
    }

    /// @dev A channel that accepts fraud proofs (open, or disputed with `dispute` its record)
    /// and an active caller.
    function _fraudChannel(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute
    ) private view returns (Channel storage ch, bytes32 participantsHash) {
        ch = _channels[channelId];
        if (ch.phase == Phase.Disputed) {
            (ch, participantsHash) = _disputed(channelId, participants, dispute);
        } else {
            ch = _openChannel(channelId, participants);
            participantsHash = ch.participantsHash;
        }
        _requireCaller(participants, index, ch);
    }

    /// @dev Whether `t` is not a valid transition of `previousState`: its actor is not the
    /// machine's next actor, or transition reverts (including running out of MACHINE_GAS), or
    /// the result's hash differs. A machine error on nextActor counts as invalid too: an honest
    /// participant only signs a transaction after checking its actor against nextActor.
    function _isInvalid(address machine, bytes calldata previousState, Transaction calldata t)
        private
        view
        returns (bool)
    {
        (bool ok, bytes memory ret) =
            _tryCallMachine(machine, abi.encodeCall(IStateMachine.nextActor, (previousState)));
        if (!ok || ret.length != 32 || abi.decode(ret, (uint256)) != t.actor) return true;
        (ok, ret) = _tryCallMachine(
            machine, abi.encodeCall(IStateMachine.transition, (previousState, t.actor, t.data, t.timestamp))
        );
        if (!ok || ret.length < 64) return true;
        return keccak256(abi.decode(ret, (bytes))) != t.stateHash;
    }

    /// @dev Slashes the active signers in `signers` in favour of the prover and opens (or
    /// replaces the open dispute with) a fraud dispute from `checkpoint`, a final state (judged,
    /// like every proof in the dispute, by the active set that includes the culprits). A fraud dispute already open keeps its removals and its candidate
    /// unless the checkpoint is later; the deadline restarts (each restart removes at least one
    /// participant, so there are at most N).
    function _convict(
        bytes32 channelId,
        Channel storage ch,
        address[] calldata participants,
        bytes32 participantsHash,
        uint256 prover,
        DisputeRecord calldata dispute,
        uint64 signers,
        SignedTransaction[] calldata checkpoint
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
        DisputeRecord memory record = _fraudRecord(prover, 0, culprits, 0, ch);
        (record.seq,, record.stateHash,) = _candidate(channelId, ch, participants, checkpoint, true);
        if (joins) {
            record.removals |= dispute.removals;
            if (record.seq <= dispute.seq) {
                (record.seq, record.stateHash) = (dispute.seq, dispute.stateHash);
            }
        }
        _raise(channelId, ch, participantsHash, record, "");
    }
}
