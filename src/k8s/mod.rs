//! `stress-tui k8s-job --shards N --image IMAGE [options] -- RUN FLAGS`: the manifests of a run
//! spread over N shards on Kubernetes, with no coordinator of our own:
//!
//! - an Indexed Job (`completionMode: Indexed`, `completions` = `parallelism` = N): pod I runs
//!   `--shard auto/N` (I from `JOB_COMPLETION_INDEX`) with one `--start-at` for all, keys from a
//!   Secret (environment, never arguments), results on a shared volume under
//!   `results/<run id>/shard-<I>`; `restartPolicy: Never` and `backoffLimitPerIndex: 0`: a
//!   shard is not run again, since its funding cannot be repeated (shard 0's token exists, a
//!   second mint would double its wallets) and a retry would start late; the
//!   `podFailurePolicy` fails the index on exit codes 2 (usage), 3 (thresholds) and 4 (late)
//!   whatever the limit is raised to;
//! - a Job that waits for the shards and merges them (`stress-tui merge --wait`), with the
//!   run's `--threshold`s, so that its log is the run's summary and its exit code the run's;
//! - a `PersistentVolumeClaim` (`ReadWriteMany`) they share, and a small pod that mounts it for
//!   `kubectl cp`.
//!
//! The run flags are validated here as a run would (exit 2 before anything is printed).

mod yaml;

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::cli::{Cli, K8sJobArgs};
use crate::config::RunConfig;
use crate::model::{Shard, UsageError, exit};

/// Where the shared volume is mounted in every pod (the shards' working directory).
const DATA: &str = "/data";
/// The container's name, which the pod failure policy names.
const CONTAINER: &str = "stress-tui";
/// Exit codes that fail a shard's index at once (see the module doc).
const FINAL_EXIT_CODES: [u8; 3] = [exit::USAGE, exit::THRESHOLDS, exit::LATE];
/// Time after the load's end by which everything has finished (funding is before the start;
/// this covers the verify phase, draining and a slow merge).
const MARGIN: Duration = Duration::from_secs(15 * 60);
/// A run without --duration (the one-off workload) is given this long.
const UNTIMED_RUN: Duration = Duration::from_secs(60 * 60);

/// Flags the manifests set themselves.
const OWNED_FLAGS: [&str; 6] = [
    "--shard",
    "--start-at",
    "--out",
    "--no-tui",
    "--operator-key-file",
    "--master-key-file",
];

/// The least time from printing the manifests to the start: the pods must be scheduled, pull
/// the image and fund their wallets first.
const LEAST_LEAD: Duration = Duration::from_secs(30);

/// A validated `k8s-job`.
#[derive(Debug)]
pub struct JobPlan {
    pub name: String,
    pub namespace: Option<String>,
    pub image: String,
    pub shards: u32,
    pub start_at: SystemTime,
    pub keys_secret: String,
    pub storage_class: Option<String>,
    pub storage: String,
    pub cpu: String,
    pub memory: String,
    /// The run's flags for every shard (without `--threshold`).
    pub shard_flags: Vec<String>,
    /// `--threshold`s, for the merge.
    pub thresholds: Vec<String>,
    pub run_id: String,
    /// From the load's start to the end of everything.
    pub after_start: Duration,
    /// The port of `--metrics-addr`, to name on the container.
    pub metrics_port: Option<u16>,
    pub reader_image: String,
}

fn dns_label(flag: &str, text: &str) -> Result<String, UsageError> {
    let valid = !text.is_empty()
        && text.len() <= 40
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(UsageError::new(format!(
            "{flag} `{text}`: expected a DNS label of at most 40 lowercase letters, digits and '-'"
        )))
    }
}

/// Splits the run flags into the shards' and the merge's thresholds, refusing the flags the
/// manifests own.
fn split_run_flags(run: &[String]) -> Result<(Vec<String>, Vec<String>), UsageError> {
    let mut shard_flags = Vec::new();
    let mut thresholds = Vec::new();
    let mut words = run.iter();
    while let Some(word) = words.next() {
        let flag = word.split_once('=').map_or(word.as_str(), |(f, _)| f);
        if flag == "--devnet" {
            return Err(UsageError::new(
                "k8s-job: --devnet cannot load a cluster from a Job; give the cluster's --nodes",
            ));
        }
        if OWNED_FLAGS.contains(&flag) {
            return Err(UsageError::new(format!(
                "k8s-job: {flag} is set by the manifests; leave it out of the run flags"
            )));
        }
        if flag == "--threshold" {
            match word.split_once('=') {
                Some((_, value)) => thresholds.push(value.to_owned()),
                None => thresholds.push(
                    words
                        .next()
                        .cloned()
                        .ok_or_else(|| UsageError::new("k8s-job: --threshold needs a value"))?,
                ),
            }
            continue;
        }
        shard_flags.push(word.clone());
    }
    if !shard_flags
        .iter()
        .any(|w| w == "--nodes" || w.starts_with("--nodes="))
    {
        return Err(UsageError::new(
            "k8s-job: give the cluster's --nodes in the run flags (a pod's default, 127.0.0.1:18555, is the pod itself)",
        ));
    }
    Ok((shard_flags, thresholds))
}

impl JobPlan {
    /// Validates `k8s-job`'s options and the run flags (as shard 0 would run them); `now` is
    /// when `--start-in` counts from.
    pub fn from_args(args: &K8sJobArgs, now: SystemTime) -> Result<Self, UsageError> {
        use clap::Parser;
        let shards = Shard::parse(&format!("0/{}", args.shards), |_| None)
            .map_err(|_| {
                UsageError::new(format!(
                    "--shards `{}`: expected a count from 1 to {}",
                    args.shards,
                    Shard::MAX_COUNT
                ))
            })?
            .count;
        let start_at = match &args.start_at {
            Some(text) => crate::config::parse_start_at(text)?,
            None => {
                now + crate::config::parse_duration(&args.start_in)
                    .map_err(|e| UsageError::new(format!("--start-in `{}`: {e}", args.start_in)))?
            }
        };
        // Whole seconds: the manifests are text people read.
        let start_at = std::time::UNIX_EPOCH
            + Duration::from_secs(
                start_at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            );
        let (shard_flags, thresholds) = split_run_flags(&args.run)?;
        let at_text = humantime::format_rfc3339_seconds(start_at).to_string();
        let mut words = vec!["stress-tui".to_owned()];
        words.extend(shard_flags.iter().cloned());
        words.extend(["--shard".to_owned(), format!("0/{shards}")]);
        words.extend(["--start-at".to_owned(), at_text]);
        for threshold in &thresholds {
            words.extend(["--threshold".to_owned(), threshold.clone()]);
        }
        let cli = Cli::try_parse_from(&words).map_err(|e| {
            let text = e.to_string();
            UsageError::new(format!(
                "k8s-job: the run flags: {}",
                text.lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
            ))
        })?;
        let config = RunConfig::check_flags(&cli.run)?;
        let run_id = config
            .sharding
            .as_ref()
            .map(|s| s.run_id.clone())
            .unwrap_or_default();
        let lead = start_at.duration_since(now).unwrap_or_default();
        if lead < LEAST_LEAD && args.start_at.is_some() {
            return Err(UsageError::new(format!(
                "--start-at {}: less than {} s from now; the pods would start late (exit 4)",
                humantime::format_rfc3339_seconds(start_at),
                LEAST_LEAD.as_secs()
            )));
        }
        if lead < LEAST_LEAD {
            return Err(UsageError::new(format!(
                "--start-in {}: at least {} s, for the pods to be scheduled, pull the image and fund their wallets",
                args.start_in,
                LEAST_LEAD.as_secs()
            )));
        }
        if let Some(addr) = config.metrics_addr.filter(|a| a.ip().is_loopback()) {
            return Err(UsageError::new(format!(
                "k8s-job: --metrics-addr {addr} is reachable only inside its pod; use 0.0.0.0:{}",
                addr.port()
            )));
        }
        Ok(Self {
            name: dns_label("--name", &args.name)?,
            namespace: args
                .namespace
                .as_deref()
                .map(|n| dns_label("--namespace", n))
                .transpose()?,
            image: args.image.clone(),
            shards,
            start_at,
            keys_secret: dns_label("--keys-secret", &args.keys_secret)?,
            storage_class: args.storage_class.clone(),
            storage: args.storage.clone(),
            cpu: args.cpu.clone(),
            memory: args.memory.clone(),
            shard_flags,
            thresholds,
            run_id,
            after_start: lead + config.duration.unwrap_or(UNTIMED_RUN) + MARGIN,
            metrics_port: config.metrics_addr.map(|a| a.port()),
            reader_image: args.reader_image.clone(),
        })
    }

    fn metadata(&self, name: &str) -> Value {
        let mut metadata = json!({
            "name": name,
            "labels": {
                "app.kubernetes.io/name": "stress-tui",
                "app.kubernetes.io/instance": self.name,
                "stress-tui/run-id": self.run_id,
            },
        });
        if let Some(namespace) = &self.namespace {
            metadata["namespace"] = json!(namespace);
        }
        metadata
    }

    fn results(&self) -> String {
        format!("{DATA}/results/{}", self.run_id)
    }

    fn claim(&self) -> String {
        format!("{}-results", self.name)
    }

    fn volume(&self) -> Value {
        json!([{ "name": "results", "persistentVolumeClaim": { "claimName": self.claim() } }])
    }

    fn mount() -> Value {
        json!([{ "name": "results", "mountPath": DATA }])
    }

    fn key_env(&self) -> Value {
        let key = |var: &str, key: &str, optional: bool| {
            json!({
                "name": var,
                "valueFrom": { "secretKeyRef": {
                    "name": self.keys_secret, "key": key, "optional": optional,
                }},
            })
        };
        json!([
            key("OPERATOR_PRIVATE_KEY", "operator", false),
            key("MASTER_PRIVATE_KEY", "master", true),
        ])
    }

    fn deadline_s(&self) -> u64 {
        self.after_start.as_secs()
    }

    fn claim_manifest(&self) -> Value {
        let mut spec = json!({
            "accessModes": ["ReadWriteMany"],
            "resources": { "requests": { "storage": self.storage } },
        });
        if let Some(class) = &self.storage_class {
            spec["storageClassName"] = json!(class);
        }
        json!({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": self.metadata(&self.claim()),
            "spec": spec,
        })
    }

    fn shards_manifest(&self) -> Value {
        let mut args: Vec<String> = self.shard_flags.clone();
        args.extend([
            "--no-tui".to_owned(),
            "--shard".to_owned(),
            format!("auto/{}", self.shards),
            "--start-at".to_owned(),
            humantime::format_rfc3339_seconds(self.start_at).to_string(),
        ]);
        let resources = json!({ "cpu": self.cpu, "memory": self.memory });
        let mut container = json!({
            "name": CONTAINER,
            "image": self.image,
            "command": ["stress-tui"],
            "args": args,
            "workingDir": DATA,
            "env": self.key_env(),
            "volumeMounts": Self::mount(),
            "resources": { "requests": resources, "limits": resources },
        });
        let labels = self.metadata(&self.name)["labels"].clone();
        let mut template_metadata = json!({ "labels": labels });
        if let Some(port) = self.metrics_port {
            container["ports"] = json!([{ "name": "metrics", "containerPort": port }]);
            // For a Prometheus that discovers pods by these annotations.
            template_metadata["annotations"] = json!({
                "prometheus.io/scrape": "true",
                "prometheus.io/port": port.to_string(),
                "prometheus.io/path": "/metrics",
            });
        }
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": self.metadata(&self.name),
            "spec": {
                "completionMode": "Indexed",
                "completions": self.shards,
                "parallelism": self.shards,
                "backoffLimitPerIndex": 0,
                "activeDeadlineSeconds": self.deadline_s(),
                "ttlSecondsAfterFinished": 86_400,
                "podFailurePolicy": { "rules": [
                    {
                        "action": "FailIndex",
                        "onExitCodes": {
                            "containerName": CONTAINER,
                            "operator": "In",
                            "values": FINAL_EXIT_CODES,
                        },
                    },
                ]},
                "template": {
                    "metadata": template_metadata,
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [container],
                        "volumes": self.volume(),
                        // One shard a machine where the cluster has them: a generator needs
                        // its cores, and the point of shards is more machines.
                        "topologySpreadConstraints": [{
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": { "matchLabels": labels },
                        }],
                    },
                },
            },
        })
    }

    fn merge_manifest(&self) -> Value {
        let mut args = vec![
            "merge".to_owned(),
            self.results(),
            "--out".to_owned(),
            format!("{}/merged", self.results()),
            "--wait".to_owned(),
            format!("{}s", self.deadline_s()),
        ];
        for threshold in &self.thresholds {
            args.extend(["--threshold".to_owned(), threshold.clone()]);
        }
        let name = format!("{}-merge", self.name);
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": self.metadata(&name),
            "spec": {
                "completions": 1,
                "backoffLimit": 0,
                "activeDeadlineSeconds": self.deadline_s() + 600,
                "ttlSecondsAfterFinished": 86_400,
                "template": {
                    "metadata": { "labels": self.metadata(&name)["labels"].clone() },
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{
                            "name": CONTAINER,
                            "image": self.image,
                            "command": ["stress-tui"],
                            "args": args,
                            "volumeMounts": Self::mount(),
                        }],
                        "volumes": self.volume(),
                    },
                },
            },
        })
    }

    /// A pod that keeps the volume mounted for `kubectl cp` (which needs `tar`: busybox has it).
    fn reader_manifest(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": self.metadata(&self.claim()),
            "spec": {
                "restartPolicy": "Never",
                "activeDeadlineSeconds": self.deadline_s() + 3_600,
                "containers": [{
                    "name": "results",
                    "image": self.reader_image,
                    "command": ["sleep", (self.deadline_s() + 3_600).to_string()],
                    "volumeMounts": Self::mount(),
                }],
                "volumes": self.volume(),
            },
        })
    }

    /// The manifests, with the commands to follow them as comments.
    #[must_use]
    pub fn manifests(&self) -> String {
        let ns = self
            .namespace
            .as_ref()
            .map_or_else(String::new, |n| format!(" -n {n}"));
        let at = humantime::format_rfc3339_seconds(self.start_at);
        let (name, claim, results, wait) = (
            &self.name,
            self.claim(),
            self.results(),
            self.deadline_s() + 600,
        );
        let mut out = format!(
            "# stress-tui k8s-job: run {id}, {n} shards, the load starts at {at}.\n\
             # Keys: kubectl{ns} create secret generic {secret} --from-file=operator=OPERATOR.key [--from-file=master=MASTER.key]\n\
             # Then, before {at}:\n\
             #   kubectl{ns} apply -f THIS_FILE\n\
             #   kubectl{ns} wait --for=condition=complete --timeout={wait}s job/{name}-merge\n\
             #   kubectl{ns} logs job/{name}-merge     # the merged summary; the Job fails if the run or a threshold did\n\
             #   kubectl{ns} cp {claim}:{results} results/{id}     # every shard's folder and merged/\n\
             #   kubectl{ns} delete -f THIS_FILE\n",
            id = self.run_id,
            n = self.shards,
            secret = self.keys_secret,
        );
        for manifest in [
            self.claim_manifest(),
            self.shards_manifest(),
            self.merge_manifest(),
            self.reader_manifest(),
        ] {
            out.push_str("---\n");
            out.push_str(&yaml::document(&manifest));
        }
        out
    }
}

/// `stress-tui k8s-job`: prints the manifests.
pub fn run(args: &K8sJobArgs) -> Result<(), UsageError> {
    let plan = JobPlan::from_args(args, SystemTime::now())?;
    print!("{}", plan.manifests());
    Ok(())
}
