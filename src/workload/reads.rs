//! The read-only workload (`--post-rate 0`): for `--duration`, GETs only, cycling through the
//! wallets with the three reads a payment run makes (nonce, token balance, receipt by hash), so
//! that the generator can be compared with plain HTTP load tools on the same work and a cluster's
//! read path can be loaded on its own.
//!
//! Nothing is signed and nothing is tracked per request: the paths are built as the slots come
//! (no table of ten thousand strings in memory), with lowercase addresses (an EIP-55 checksum
//! costs a keccak per request, and nodes take either). Balances are of `--token` when given; without
//! it, of the token this run's symbol would have (usually unknown to the node: a 404, which is an
//! ordinary answer). Receipts are asked for hashes derived from the wallet, which a node does not
//! know: the answer is the 404 a receipt poll gets before finality, the most common read of a
//! payment run. A 2xx body that is not JSON counts as a decode failure.

use sha2::{Digest, Sha256};

use crate::protocol::Address;
use crate::stats::Op;

/// Which reads come next.
#[derive(Debug)]
pub struct ReadCycle {
    addresses: Vec<Address>,
    token: Address,
    next: u64,
}

impl ReadCycle {
    /// Reads cycle over `addresses`, three reads each.
    #[must_use]
    pub fn new(addresses: Vec<Address>, token: Address) -> Self {
        Self {
            addresses,
            token,
            next: 0,
        }
    }

    /// The next read: its operation and path.
    pub fn next_read(&mut self) -> (Op, String) {
        let k = self.next;
        self.next = self.next.wrapping_add(1);
        let count = self.addresses.len().max(1) as u64;
        let index = usize::try_from((k / 3) % count).unwrap_or(0);
        let address = self.addresses.get(index).copied().unwrap_or(Address::ZERO);
        match k % 3 {
            0 => (
                Op::Nonce,
                format!("/v1/accounts/nonce?address={address:#x}"),
            ),
            1 => (
                Op::Balance,
                format!(
                    "/v1/accounts/token_account?address={address:#x}&token={:#x}",
                    self.token
                ),
            ),
            _ => {
                let hash = Sha256::digest(address.as_slice());
                (
                    Op::Receipt,
                    format!(
                        "/v1/transactions/receipt/by_hash?hash=0x{}",
                        hex::encode(hash)
                    ),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_three_reads_over_every_wallet() {
        let a = Address::repeat_byte(0xaa);
        let b = Address::repeat_byte(0xbb);
        let token = Address::repeat_byte(0x11);
        let mut cycle = ReadCycle::new(vec![a, b], token);
        let reads: Vec<(Op, String)> = (0..7).map(|_| cycle.next_read()).collect();
        let ops: Vec<Op> = reads.iter().map(|(op, _)| *op).collect();
        assert_eq!(
            ops,
            [
                Op::Nonce,
                Op::Balance,
                Op::Receipt,
                Op::Nonce,
                Op::Balance,
                Op::Receipt,
                Op::Nonce
            ]
        );
        assert_eq!(reads[0].1, format!("/v1/accounts/nonce?address={a:#x}"));
        assert_eq!(
            reads[4].1,
            format!("/v1/accounts/token_account?address={b:#x}&token={token:#x}")
        );
        assert!(
            reads[2]
                .1
                .starts_with("/v1/transactions/receipt/by_hash?hash=0x")
        );
        assert_eq!(
            reads[2].1.len(),
            "/v1/transactions/receipt/by_hash?hash=0x".len() + 64
        );
        assert_ne!(reads[2].1, reads[5].1, "each wallet its own hash");
        assert_eq!(reads[6].1, reads[0].1, "wraps around");
    }
}
