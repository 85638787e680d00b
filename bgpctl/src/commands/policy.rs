//! `bgpctl policy`: defined sets, policies, neighbours' chains and the global defaults.

use std::net::IpAddr;
use std::path::PathBuf;

use bgp_api::bgpd::v1::{
    AddDefinedSetRequest, DefinedSet, DefinedSetKind, DeleteDefinedSetRequest, DeletePolicyRequest,
    ListDefinedSetsRequest, ListPoliciesRequest, LoadPolicyRequest, Policy, PolicyChangeResponse,
    PolicyDefault, PolicyDirection, SetMatch, SetMatchKind, SetPolicyAssignmentRequest,
    SetPolicyDefaultsRequest,
};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use super::{Ctx, unary, usage};
use crate::error::Error;
use crate::format::json::PolicyEffect;
use crate::format::table::{Align, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    Prefix,
    Neighbor,
    AsPath,
    Community,
    ExtCommunity,
    LargeCommunity,
}

impl KindArg {
    fn to_pb(self) -> DefinedSetKind {
        match self {
            KindArg::Prefix => DefinedSetKind::Prefix,
            KindArg::Neighbor => DefinedSetKind::Neighbor,
            KindArg::AsPath => DefinedSetKind::AsPath,
            KindArg::Community => DefinedSetKind::Community,
            KindArg::ExtCommunity => DefinedSetKind::ExtCommunity,
            KindArg::LargeCommunity => DefinedSetKind::LargeCommunity,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DirectionArg {
    Import,
    Export,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DefaultArg {
    Accept,
    Reject,
}

fn default_pb(d: Option<DefaultArg>) -> i32 {
    (match d {
        None => PolicyDefault::Unspecified,
        Some(DefaultArg::Accept) => PolicyDefault::Accept,
        Some(DefaultArg::Reject) => PolicyDefault::Reject,
    }) as i32
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCmd {
    /// List the policies with their statements, and the global defaults.
    #[command(visible_alias = "ls")]
    List,
    /// Add or replace the sets and policies of a TOML file written as in bgpd's
    /// configuration (`[[prefix_sets]]`, `[[policies]]`, ...), all or nothing.
    Load {
        /// The file.
        file: PathBuf,
    },
    /// Delete a policy (refused while a neighbor uses it).
    #[command(visible_alias = "delete")]
    Del { name: String },
    /// Manage defined sets (lists them without a subcommand).
    Set {
        #[command(subcommand)]
        action: Option<SetCmd>,
    },
    /// Set a neighbor's import or export chain (no policies: none) and its default action.
    Assign {
        address: IpAddr,
        #[arg(value_enum)]
        direction: DirectionArg,
        /// Policy names, evaluated in order.
        policies: Vec<String>,
        /// What happens to routes no statement accepted or rejected (default: the global
        /// default).
        #[arg(long, value_enum)]
        default: Option<DefaultArg>,
    },
    /// Set the global default actions.
    Defaults {
        #[arg(long, value_enum)]
        import: Option<DefaultArg>,
        #[arg(long, value_enum)]
        export: Option<DefaultArg>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SetCmd {
    /// List defined sets.
    #[command(visible_alias = "ls")]
    List {
        /// Only this kind.
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
    },
    /// Add or replace a defined set.
    Add {
        #[arg(value_enum)]
        kind: KindArg,
        name: String,
        /// Members: "10.0.0.0/8 16..24", "192.0.2.1", or regular expressions.
        members: Vec<String>,
    },
    /// Delete a defined set (refused while a policy uses it).
    #[command(visible_alias = "delete")]
    Del {
        #[arg(value_enum)]
        kind: KindArg,
        name: String,
    },
}

/// Runs `bgpctl policy ...`.
pub(super) async fn run(ctx: &mut Ctx<'_>, action: Option<PolicyCmd>) -> Result<(), Error> {
    match action.unwrap_or(PolicyCmd::List) {
        PolicyCmd::List => list(ctx).await,
        PolicyCmd::Load { file } => {
            const CMD: &str = "policy load";
            let toml = std::fs::read_to_string(&file)
                .map_err(|e| usage(CMD, format!("cannot read {}: {e}", file.display())))?;
            let r = ctx
                .client
                .load_policy(unary(LoadPolicyRequest { toml }))
                .await
                .map_err(ctx.failed(CMD))?
                .into_inner();
            changed(ctx, &r, format!("loaded {}", file.display()))
        }
        PolicyCmd::Del { name } => {
            let r = ctx
                .client
                .delete_policy(unary(DeletePolicyRequest { name: name.clone() }))
                .await
                .map_err(ctx.failed("policy del"))?
                .into_inner();
            changed(ctx, &r, format!("deleted policy {name}"))
        }
        PolicyCmd::Set { action } => set(ctx, action).await,
        PolicyCmd::Assign {
            address,
            direction,
            policies,
            default,
        } => {
            let dir = match direction {
                DirectionArg::Import => PolicyDirection::Import,
                DirectionArg::Export => PolicyDirection::Export,
            };
            let what = format!(
                "{address} {} chain: {}",
                if dir == PolicyDirection::Import {
                    "import"
                } else {
                    "export"
                },
                if policies.is_empty() {
                    "none".to_owned()
                } else {
                    policies.join(", ")
                }
            );
            let r = ctx
                .client
                .set_policy_assignment(unary(SetPolicyAssignmentRequest {
                    address: address.to_string(),
                    direction: dir as i32,
                    policies,
                    default: default_pb(default),
                }))
                .await
                .map_err(ctx.failed("policy assign"))?
                .into_inner();
            changed(ctx, &r, what)
        }
        PolicyCmd::Defaults { import, export } => {
            if import.is_none() && export.is_none() {
                return Err(usage("policy defaults", "give --import, --export or both"));
            }
            let r = ctx
                .client
                .set_policy_defaults(unary(SetPolicyDefaultsRequest {
                    default_import: default_pb(import),
                    default_export: default_pb(export),
                }))
                .await
                .map_err(ctx.failed("policy defaults"))?
                .into_inner();
            changed(ctx, &r, "defaults set".to_owned())
        }
    }
}

#[derive(Debug, Serialize)]
struct Changed {
    effects: Vec<PolicyEffect>,
}

/// Prints what a change did: a line, then one line per neighbour it touched.
fn changed(ctx: &mut Ctx<'_>, r: &PolicyChangeResponse, what: String) -> Result<(), Error> {
    let doc = Changed {
        effects: r.effects.iter().map(PolicyEffect::from).collect(),
    };
    ctx.emit(&doc, || {
        let mut out = format!("{what}\n");
        for e in &r.effects {
            out.push_str(&format!("  {}: {}\n", e.address, e.action));
        }
        out
    })
}

fn kind_name(k: i32) -> &'static str {
    match DefinedSetKind::try_from(k) {
        Ok(DefinedSetKind::Prefix) => "prefix",
        Ok(DefinedSetKind::Neighbor) => "neighbor",
        Ok(DefinedSetKind::AsPath) => "as-path",
        Ok(DefinedSetKind::Community) => "community",
        Ok(DefinedSetKind::ExtCommunity) => "ext-community",
        Ok(DefinedSetKind::LargeCommunity) => "large-community",
        _ => "unknown",
    }
}

#[derive(Debug, Serialize)]
struct SetJson {
    kind: &'static str,
    name: String,
    members: Vec<String>,
}

impl From<&DefinedSet> for SetJson {
    fn from(s: &DefinedSet) -> Self {
        SetJson {
            kind: kind_name(s.kind),
            name: s.name.clone(),
            members: s.members.clone(),
        }
    }
}

async fn set(ctx: &mut Ctx<'_>, action: Option<SetCmd>) -> Result<(), Error> {
    match action.unwrap_or(SetCmd::List { kind: None }) {
        SetCmd::List { kind } => {
            let sets = ctx
                .client
                .list_defined_sets(unary(ListDefinedSetsRequest {
                    kind: kind.map_or(0, |k| k.to_pb() as i32),
                }))
                .await
                .map_err(ctx.failed("policy set list"))?
                .into_inner()
                .sets;
            let doc: Vec<SetJson> = sets.iter().map(SetJson::from).collect();
            ctx.emit(&doc, || {
                let mut t = Table::new(&[
                    ("Kind", Align::Left),
                    ("Name", Align::Left),
                    ("Members", Align::Left),
                ]);
                for s in &sets {
                    t.row(vec![
                        kind_name(s.kind).to_owned(),
                        s.name.clone(),
                        s.members.join(", "),
                    ]);
                }
                t.render()
            })
        }
        SetCmd::Add {
            kind,
            name,
            members,
        } => {
            let r = ctx
                .client
                .add_defined_set(unary(AddDefinedSetRequest {
                    set: Some(DefinedSet {
                        kind: kind.to_pb() as i32,
                        name: name.clone(),
                        members,
                    }),
                }))
                .await
                .map_err(ctx.failed("policy set add"))?
                .into_inner();
            changed(ctx, &r, format!("set {name} stored"))
        }
        SetCmd::Del { kind, name } => {
            let r = ctx
                .client
                .delete_defined_set(unary(DeleteDefinedSetRequest {
                    kind: kind.to_pb() as i32,
                    name: name.clone(),
                }))
                .await
                .map_err(ctx.failed("policy set del"))?
                .into_inner();
            changed(ctx, &r, format!("deleted set {name}"))
        }
    }
}

#[derive(Debug, Serialize)]
struct PoliciesJson {
    default_import: &'static str,
    default_export: &'static str,
    policies: Vec<PolicyJson>,
}

#[derive(Debug, Serialize)]
struct PolicyJson {
    name: String,
    statements: Vec<StatementJson>,
}

#[derive(Debug, Serialize)]
struct StatementJson {
    name: String,
    conditions: Vec<String>,
    actions: Vec<String>,
}

fn default_name(d: i32) -> &'static str {
    match PolicyDefault::try_from(d) {
        Ok(PolicyDefault::Reject) => "reject",
        _ => "accept",
    }
}

fn set_match(key: &str, m: &Option<SetMatch>) -> Option<String> {
    m.as_ref().map(|m| {
        let how = match SetMatchKind::try_from(m.r#match) {
            Ok(SetMatchKind::All) => "all",
            Ok(SetMatchKind::Invert) => "invert",
            _ => "any",
        };
        format!("{key} {how} {}", m.set)
    })
}

/// A policy's statements as readable lines: "prefix_set any customers", "med set 5".
fn policy_json(p: &Policy) -> PolicyJson {
    let statements = p
        .statements
        .iter()
        .map(|s| {
            let mut conditions = Vec::new();
            if let Some(c) = &s.conditions {
                for (k, m) in [
                    ("prefix_set", &c.prefix_set),
                    ("neighbor_set", &c.neighbor_set),
                    ("as_path_set", &c.as_path_set),
                    ("community_set", &c.community_set),
                    ("ext_community_set", &c.ext_community_set),
                    ("large_community_set", &c.large_community_set),
                ] {
                    conditions.extend(set_match(k, m));
                }
                for (k, v) in [
                    ("as_path_length", &c.as_path_length),
                    ("origin", &c.origin),
                    ("route_type", &c.route_type),
                    ("family", &c.family),
                ] {
                    if !v.is_empty() {
                        conditions.push(format!("{k} {v}"));
                    }
                }
                if !c.next_hop.is_empty() {
                    conditions.push(format!("next_hop {}", c.next_hop.join(" ")));
                }
            }
            let mut actions = Vec::new();
            if let Some(a) = &s.actions {
                for (k, e) in [
                    ("communities", &a.communities),
                    ("ext_communities", &a.ext_communities),
                    ("large_communities", &a.large_communities),
                ] {
                    if let Some(e) = e {
                        if e.replace {
                            actions.push(format!("set_{k} [{}]", e.set.join(" ")));
                        }
                        if !e.remove.is_empty() {
                            actions.push(format!("remove_{k} [{}]", e.remove.join(" ")));
                        }
                        if !e.add.is_empty() {
                            actions.push(format!("add_{k} [{}]", e.add.join(" ")));
                        }
                    }
                }
                if !a.med.is_empty() {
                    actions.push(format!("med {}", a.med));
                }
                if let Some(lp) = a.local_pref {
                    actions.push(format!("local_pref {lp}"));
                }
                if a.prepend > 0 {
                    let asn = if a.prepend_asn == 0 {
                        "own AS".to_owned()
                    } else {
                        format!("AS {}", a.prepend_asn)
                    };
                    actions.push(format!("prepend {asn} x{}", a.prepend));
                }
                for (k, v) in [("next_hop", &a.next_hop), ("origin", &a.origin)] {
                    if !v.is_empty() {
                        actions.push(format!("{k} {v}"));
                    }
                }
                if !a.result.is_empty() {
                    actions.push(a.result.clone());
                }
            }
            StatementJson {
                name: s.name.clone(),
                conditions,
                actions,
            }
        })
        .collect();
    PolicyJson {
        name: p.name.clone(),
        statements,
    }
}

async fn list(ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let r = ctx
        .client
        .list_policies(unary(ListPoliciesRequest {}))
        .await
        .map_err(ctx.failed("policy list"))?
        .into_inner();
    let doc = PoliciesJson {
        default_import: default_name(r.default_import),
        default_export: default_name(r.default_export),
        policies: r.policies.iter().map(policy_json).collect(),
    };
    ctx.emit(&doc, || {
        let mut t = Table::new(&[
            ("Policy", Align::Left),
            ("Statement", Align::Left),
            ("Conditions", Align::Left),
            ("Actions", Align::Left),
        ]);
        for p in &doc.policies {
            for s in &p.statements {
                t.row(vec![
                    p.name.clone(),
                    if s.name.is_empty() {
                        "-".into()
                    } else {
                        s.name.clone()
                    },
                    if s.conditions.is_empty() {
                        "always".into()
                    } else {
                        s.conditions.join(", ")
                    },
                    if s.actions.is_empty() {
                        "-".into()
                    } else {
                        s.actions.join(", ")
                    },
                ]);
            }
        }
        format!(
            "Defaults: import {}, export {}\n{}",
            doc.default_import,
            doc.default_export,
            t.render()
        )
    })
}
