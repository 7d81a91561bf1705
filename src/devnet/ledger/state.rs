//! Balances, nonces and tokens, and the rules each transaction kind must pass to change them
//! (issue, authority grants and revocations, mint, payment), with the node's error codes. The
//! ledger runs every transaction through these rules twice: at admission on the pending state,
//! at execution on the committed one.

use std::collections::HashMap;

use alloy_primitives::{Address, U256};

use super::{MAX_MINT_AUTHORITIES, MAX_OTHER_AUTHORITIES, Reject, Tx, TxBody};
use crate::protocol::wire::{self, MintInfo, MinterAllowance, error_code};
use crate::protocol::{
    AuthorityAction, AuthorityPayload, AuthorityType, IssuePayload, MintPayload, PaymentPayload,
};

#[derive(Clone, Debug)]
struct Token {
    symbol: String,
    name: String,
    decimals: u8,
    master_authority: Address,
    master_mint_burn_authority: Address,
    /// In grant order, as a node lists them.
    minters: Vec<(Address, U256)>,
    lists: HashMap<AuthorityType, Vec<Address>>,
    supply: U256,
    is_private: bool,
    is_paused: bool,
    clawback_enabled: bool,
}

/// Balances, nonces and tokens: one consistent view of the chain.
#[derive(Clone, Debug, Default)]
pub struct State {
    nonces: HashMap<Address, u64>,
    tokens: HashMap<Address, Token>,
    balances: HashMap<(Address, Address), U256>,
}

impl State {
    pub fn nonce(&self, account: Address) -> u64 {
        self.nonces.get(&account).copied().unwrap_or(0)
    }

    pub fn balance(&self, token: Address, owner: Address) -> U256 {
        self.balances
            .get(&(token, owner))
            .copied()
            .unwrap_or(U256::ZERO)
    }

    pub fn mint_info(&self, token: Address) -> Option<MintInfo> {
        let t = self.tokens.get(&token)?;
        let list = |kind| t.lists.get(&kind).cloned().unwrap_or_default();
        Some(MintInfo {
            symbol: t.symbol.clone(),
            master_authority: t.master_authority,
            master_mint_burn_authority: t.master_mint_burn_authority,
            mint_burn_authorities: t
                .minters
                .iter()
                .map(|&(minter, allowance)| MinterAllowance { minter, allowance })
                .collect(),
            pause_authorities: list(AuthorityType::Pause),
            list_authorities: list(AuthorityType::ManageList),
            black_list: Vec::new(),
            white_list: Vec::new(),
            metadata_update_authorities: list(AuthorityType::UpdateMetadata),
            bridge_mint_authorities: list(AuthorityType::Bridge),
            clawback_enabled: t.clawback_enabled,
            clawback_authorities: list(AuthorityType::Clawback),
            supply: t.supply,
            decimals: t.decimals,
            is_paused: t.is_paused,
            is_private: t.is_private,
            meta: Some(wire::TokenMetadata {
                name: t.name.clone(),
                uri: String::new(),
                additional_metadata: Vec::new(),
            }),
        })
    }

    /// Validates `tx` against this state and applies it; on refusal nothing changes.
    pub fn apply(&mut self, tx: &Tx, chain_id: u64, operator: Address) -> Result<(), Reject> {
        if tx.chain_id != chain_id {
            return Err(Reject::business(
                error_code::TX_FAILED,
                format!("invalid chain id: expected {chain_id}, got {}", tx.chain_id),
            ));
        }
        let expected = self.nonce(tx.from);
        if tx.nonce != expected {
            return Err(Reject::business(
                error_code::INVALID_NONCE,
                format!("expected {expected}, got {}", tx.nonce),
            ));
        }
        match &tx.body {
            TxBody::Issue(p) => self.issue(tx.from, p, operator)?,
            TxBody::Authority(p) => self.authority(tx.from, p)?,
            TxBody::Mint(p) => self.mint(tx.from, p)?,
            TxBody::Payment(p) => self.pay(tx.from, p)?,
        }
        self.nonces.insert(tx.from, expected + 1);
        Ok(())
    }

    fn issue(&mut self, from: Address, p: &IssuePayload, operator: Address) -> Result<(), Reject> {
        if from != operator {
            return Err(Reject::business(
                error_code::UNAUTHORIZED,
                format!("only the network operator may issue tokens; {from} is not the operator"),
            ));
        }
        let token = p.token_address();
        if self.tokens.contains_key(&token) {
            return Err(Reject::business(
                error_code::TX_FAILED,
                format!("token {token} (symbol {}) already exists", p.symbol),
            ));
        }
        self.tokens.insert(
            token,
            Token {
                symbol: p.symbol.clone(),
                name: p.name.clone(),
                decimals: p.decimals,
                master_authority: p.master_authority,
                master_mint_burn_authority: Address::ZERO,
                minters: Vec::new(),
                lists: HashMap::new(),
                supply: U256::ZERO,
                is_private: p.is_private,
                is_paused: false,
                clawback_enabled: p.clawback_enabled,
            },
        );
        Ok(())
    }

    fn token_mut(&mut self, token: Address) -> Result<&mut Token, Reject> {
        self.tokens.get_mut(&token).ok_or_else(|| {
            Reject::business(
                error_code::TOKEN_NOT_FOUND,
                format!("token {token} not found"),
            )
        })
    }

    fn authority(&mut self, from: Address, p: &AuthorityPayload) -> Result<(), Reject> {
        let token = self.token_mut(p.token)?;
        let may_grant = from == token.master_authority
            || (p.authority_type == AuthorityType::MintBurnTokens
                && token.master_mint_burn_authority == from
                && from != Address::ZERO);
        if !may_grant {
            return Err(Reject::business(
                error_code::UNAUTHORIZED,
                format!(
                    "{from} may not {} {} on token {}",
                    p.action.as_str(),
                    p.authority_type.as_str(),
                    p.token
                ),
            ));
        }
        let target = p.authority_address;
        match (p.authority_type, p.action) {
            (AuthorityType::MasterMintBurn, AuthorityAction::Grant) => {
                token.master_mint_burn_authority = target;
            }
            (AuthorityType::MasterMintBurn, AuthorityAction::Revoke) => {
                if token.master_mint_burn_authority != target {
                    return Err(Reject::business(
                        error_code::TX_FAILED,
                        format!("{target} is not the master mint authority"),
                    ));
                }
                token.master_mint_burn_authority = Address::ZERO;
            }
            (AuthorityType::MintBurnTokens, AuthorityAction::Grant) => {
                if let Some(entry) = token.minters.iter_mut().find(|(m, _)| *m == target) {
                    entry.1 = p.value;
                } else if token.minters.len() >= MAX_MINT_AUTHORITIES {
                    return Err(Reject::business(
                        error_code::TX_FAILED,
                        format!("token already has {MAX_MINT_AUTHORITIES} mint authorities"),
                    ));
                } else {
                    token.minters.push((target, p.value));
                }
            }
            (AuthorityType::MintBurnTokens, AuthorityAction::Revoke) => {
                let before = token.minters.len();
                token.minters.retain(|(m, _)| *m != target);
                if token.minters.len() == before {
                    return Err(Reject::business(
                        error_code::TX_FAILED,
                        format!("{target} is not a mint authority"),
                    ));
                }
            }
            (kind, action) => {
                if kind == AuthorityType::Clawback && !token.clawback_enabled {
                    return Err(Reject::business(
                        error_code::TX_FAILED,
                        "clawback is disabled for this token",
                    ));
                }
                let list = token.lists.entry(kind).or_default();
                match action {
                    AuthorityAction::Grant if list.contains(&target) => {}
                    AuthorityAction::Grant if list.len() >= MAX_OTHER_AUTHORITIES => {
                        return Err(Reject::business(
                            error_code::TX_FAILED,
                            format!(
                                "token already has {MAX_OTHER_AUTHORITIES} {} authorities",
                                kind.as_str()
                            ),
                        ));
                    }
                    AuthorityAction::Grant => list.push(target),
                    AuthorityAction::Revoke => {
                        let before = list.len();
                        list.retain(|a| *a != target);
                        if list.len() == before {
                            return Err(Reject::business(
                                error_code::TX_FAILED,
                                format!("{target} holds no {} authority", kind.as_str()),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn mint(&mut self, from: Address, p: &MintPayload) -> Result<(), Reject> {
        let token = self.token_mut(p.token)?;
        if token.is_paused {
            return Err(Reject::business(
                error_code::TOKEN_PAUSED,
                format!("token {} is paused", p.token),
            ));
        }
        let Some(entry) = token.minters.iter_mut().find(|(m, _)| *m == from) else {
            return Err(Reject::business(
                error_code::UNAUTHORIZED,
                format!("{from} has no mint authority on token {}", p.token),
            ));
        };
        if p.value > entry.1 {
            return Err(Reject::business(
                error_code::ALLOWANCE_EXCEEDED,
                format!(
                    "mint of {} exceeds the remaining allowance {}",
                    p.value, entry.1
                ),
            ));
        }
        let supply = token
            .supply
            .checked_add(p.value)
            .ok_or_else(|| Reject::business(error_code::TX_FAILED, "supply would overflow"))?;
        entry.1 -= p.value;
        token.supply = supply;
        // Balances never exceed supply, so this cannot overflow once the supply did not.
        *self.balances.entry((p.token, p.recipient)).or_default() += p.value;
        Ok(())
    }

    fn pay(&mut self, from: Address, p: &PaymentPayload) -> Result<(), Reject> {
        let token = self.token_mut(p.token)?;
        if token.is_paused {
            return Err(Reject::business(
                error_code::TOKEN_PAUSED,
                format!("token {} is paused", p.token),
            ));
        }
        let balance = self.balance(p.token, from);
        if p.value > balance {
            return Err(Reject::business(
                error_code::INSUFFICIENT_BALANCE,
                format!("balance {balance} is below the payment value {}", p.value),
            ));
        }
        self.balances.insert((p.token, from), balance - p.value);
        *self.balances.entry((p.token, p.recipient)).or_default() += p.value;
        Ok(())
    }
}
