//! The release as a registry would publish it (`make release`, `scripts/release`):
//! the zips, SHA256SUMS and its signature, the registry manifest; reproducible
//! from another checkout path; the arm64 binary under qemu; `terraform init` and
//! `providers lock` from the packed filesystem mirror (`scripts/install`) with
//! Terraform and OpenTofu; `terraform init` from the static network mirror over
//! HTTPS on 127.0.0.1.
//!
//! Each test makes its own `dist/` with [`Release::build`]: `make test` compiled
//! the release before (`scripts/release --build-only`), so that is cargo finding
//! everything up to date and the packaging (seconds). The tests run one at a time
//! (`.config/nextest.toml`), as the reproducibility test recompiles the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context as _};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use testkit::{repo_root, run_command, Release, Sandbox, Terraform, TestDir, RELEASE_PLATFORMS};

const BIN: &str = "terraform-provider-datadog";
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const SHORT: Duration = Duration::from_secs(120);
const HOSTNAMES: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];

// ------------------------------------------------------------------ helpers

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

/// The entries of a zip (name, Unix mode, date_time, compression) as JSON, by Python's zipfile.
fn zip_entries(zip: &Path) -> anyhow::Result<Value> {
    let script = "import json, sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  print(json.dumps([{'name': i.filename, 'mode': i.external_attr >> 16, 'date_time': list(i.date_time), 'compress_type': i.compress_type} for i in z.infolist()]))";
    let mut c = cmd("python3", &["-c", script]);
    c.arg(zip);
    run_command(c, "python3 zipfile listing", SHORT)?.ensure_success()?.json()
}

/// Extracts the one member of a provider zip to `dest` (mode 0755).
fn unzip_binary(zip: &Path, dest: &Path) -> anyhow::Result<()> {
    let script = "import os, sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  [info] = z.infolist()\n\
                  open(sys.argv[2], 'wb').write(z.read(info))\n\
                  os.chmod(sys.argv[2], 0o755)";
    let mut c = cmd("python3", &["-c", script]);
    c.arg(zip).arg(dest);
    run_command(c, "python3 zipfile extract", SHORT)?.ensure_success()?;
    Ok(())
}

fn binary_of(release: &Release, platform: &str, dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join(format!("{BIN}-{platform}"));
    unzip_binary(&release.zip(platform), &path)?;
    read(&path)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The commit time of HEAD, the release's SOURCE_DATE_EPOCH.
fn commit_epoch() -> anyhow::Result<String> {
    let mut c = cmd("git", &["log", "-1", "--format=%ct"]);
    c.current_dir(repo_root());
    Ok(run_command(c, "git log -1 --format=%ct", SHORT)?.ensure_success()?.stdout.trim().to_owned())
}

/// The mirror's `<version>.json` for a hostname.
fn version_json(release: &Release, hostname: &str) -> anyhow::Result<Value> {
    let path = release.mirror().join(hostname).join("orgsync").join("datadog").join(format!("{}.json", release.version()));
    Ok(serde_json::from_slice(&read(&path)?)?)
}

/// `{platform: [hashes]}` from the mirror's `<version>.json` (h1: first, then zh:).
fn mirror_hashes(release: &Release) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let doc = version_json(release, HOSTNAMES[0])?;
    let archives = doc["archives"].as_object().ok_or_else(|| anyhow!("no archives in {doc}"))?;
    Ok(archives
        .iter()
        .map(|(platform, a)| {
            let hashes = a["hashes"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
            (platform.clone(), hashes)
        })
        .collect())
}

/// The `hashes` of the provider's block in a lock file.
fn locked_hashes(lock: &str, address: &str) -> anyhow::Result<BTreeSet<String>> {
    let start = lock.find(&format!("provider \"{address}\"")).ok_or_else(|| anyhow!("no {address} in the lock file:\n{lock}"))?;
    let block = &lock[start..];
    let block = &block[..block.find("\n}").unwrap_or(block.len())];
    let hashes = &block[block.find("hashes").ok_or_else(|| anyhow!("no hashes in:\n{block}"))?..];
    Ok(hashes.split('"').filter(|s| s.starts_with("h1:") || s.starts_with("zh:")).map(str::to_owned).collect())
}

fn main_tf(version: &str) -> String {
    format!("terraform {{\n  required_providers {{\n    datadog = {{\n      source  = \"orgsync/datadog\"\n      version = \"{version}\"\n    }}\n  }}\n}}\n")
}

/// `tf` with every proxy pointed at a closed port: nothing but loopback is reachable.
fn offline(tf: Terraform) -> Terraform {
    let nowhere = "http://127.0.0.1:9";
    tf.with_env("HTTPS_PROXY", nowhere).with_env("https_proxy", nowhere).with_env("HTTP_PROXY", nowhere).with_env("http_proxy", nowhere).with_env("NO_PROXY", "").with_env("no_proxy", "")
}

/// The pinned Terraform and, when it can be built and run, the pinned OpenTofu
/// (else a printed reason).
fn clis(sb: &Sandbox) -> anyhow::Result<Vec<Terraform>> {
    let mut out = vec![Terraform::pinned(sb)?];
    match Terraform::tofu(sb) {
        Ok(tofu) => out.push(tofu),
        Err(e) => eprintln!("skipping OpenTofu: scripts/tofu is unavailable here: {e:#}"),
    }
    Ok(out)
}

// ------------------------------------------------------------------ (1) what dist/ holds

#[test]
fn e2e_release_dist_holds_zips_checksums_signature_and_manifest() -> anyhow::Result<()> {
    let release = Release::build()?;
    let version = release.version().to_owned();
    for platform in RELEASE_PLATFORMS {
        if let Some(why) = release.skipped(platform) {
            eprintln!("{platform} not built on this machine: {why}");
        }
    }
    ensure!(release.platforms().iter().any(|p| p == "linux_amd64"), "no linux_amd64 zip");

    // Exactly the registry's files (and the mirror).
    let mut names: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(release.dist())? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            names.insert(name);
        }
    }
    let prefix = format!("{BIN}_{version}_");
    let mut expected: BTreeSet<String> = release.platforms().iter().map(|p| format!("{prefix}{p}.zip")).collect();
    for suffix in ["manifest.json", "SHA256SUMS", "SHA256SUMS.sig", "signing-key.asc"] {
        expected.insert(format!("{prefix}{suffix}"));
    }
    expected.insert("mirror".to_owned());
    ensure!(names == expected, "dist/ holds {names:?}, expected {expected:?}");

    // The manifest: protocol 6, as terraform-registry-manifest.json says.
    let manifest: Value = serde_json::from_slice(&read(&release.file("manifest.json"))?)?;
    ensure!(manifest == json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}}), "manifest: {manifest}");
    ensure!(read(&release.file("manifest.json"))? == read(&repo_root().join("terraform-registry-manifest.json"))?);

    // SHA256SUMS: sha256sum's format, the zips and the manifest, in name order.
    let sums = String::from_utf8(read(&release.file("SHA256SUMS"))?)?;
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (hex, name) = line.split_once("  ").ok_or_else(|| anyhow!("not a sha256sum line: {line:?}"))?;
        ensure!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{line:?}");
        ensure!(sha256_hex(&read(&release.dist().join(name))?) == hex, "{name}: checksum mismatch");
        listed.push(name.to_owned());
    }
    let mut want: Vec<String> = expected.iter().filter(|n| n.ends_with(".zip") || n.ends_with("manifest.json")).cloned().collect();
    want.sort();
    ensure!(listed == want, "SHA256SUMS lists {listed:?}, expected {want:?}");

    // The signature verifies with the exported key, and not over altered sums.
    let gnupg = TestDir::new("release-gpg")?;
    let home = gnupg.path().join("home");
    std::fs::create_dir_all(&home)?;
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))?;
    let gpg = |args: &[&str]| -> anyhow::Result<testkit::Output> {
        let mut c = cmd("gpg", &["--batch", "--no-tty"]);
        c.args(args).env("GNUPGHOME", &home);
        run_command(c, &format!("gpg {}", args.join(" ")), SHORT)
    };
    let key = release.file("signing-key.asc");
    let sig = release.file("SHA256SUMS.sig");
    let sums_path = release.file("SHA256SUMS");
    let result = (|| -> anyhow::Result<()> {
        gpg(&["--import", &key.to_string_lossy()])?.ensure_success()?;
        let ok = gpg(&["--verify", &sig.to_string_lossy(), &sums_path.to_string_lossy()])?.ensure_success()?;
        ensure!(ok.stderr.contains("Good signature"), "{}", ok.describe());
        let altered = gnupg.write_file("SHA256SUMS", &sums.replacen(&sums[..1], if &sums[..1] == "0" { "1" } else { "0" }, 1))?;
        let bad = gpg(&["--verify", &sig.to_string_lossy(), &altered.to_string_lossy()])?;
        ensure!(!bad.success() && bad.stderr.contains("BAD signature"), "altered sums must not verify:\n{}", bad.describe());
        Ok(())
    })();
    let mut kill = cmd("gpgconf", &["--kill", "all"]);
    kill.env("GNUPGHOME", &home);
    let _ = run_command(kill, "gpgconf --kill all", SHORT);
    result?;

    // Each zip: one executable named as the registry names it, dated by the commit.
    let epoch: i64 = commit_epoch()?.parse()?;
    let date = time::OffsetDateTime::from_unix_timestamp(epoch.max(315_532_800))?;
    let stamp = json!([date.year(), u8::from(date.month()), date.day(), date.hour(), date.minute(), date.second() - date.second() % 2]);
    let scratch = TestDir::new("release-binaries")?;
    let machine_paths = machine_paths()?;
    for platform in release.platforms() {
        let entries = zip_entries(&release.zip(platform))?;
        ensure!(
            entries == json!([{"name": format!("{BIN}_v{version}"), "mode": 0o100755, "date_time": stamp, "compress_type": 8}]),
            "{platform}: zip entries {entries}, expected the one executable dated {stamp}"
        );
        let bin = binary_of(&release, platform, scratch.path())?;
        let machine = u16::from_le_bytes([bin[18], bin[19]]);
        let want_machine = if platform == "linux_arm64" { 0xB7 } else { 0x3E };
        ensure!(bin.starts_with(b"\x7fELF") && machine == want_machine, "{platform}: ELF machine {machine:#x}");
        ensure!(!contains(&bin, b".note.gnu.build-id"), "{platform}: the binary has a build id");
        for path in &machine_paths {
            ensure!(!contains(&bin, path.as_bytes()), "{platform}: the binary holds the path {path}");
        }
        // What the remaps leave: the generated code's OUT_DIR under /target, the
        // dependencies' sources (Rust and C) under /cargo, std's under /rustc.
        for remapped in ["/target/", "/cargo/registry/src/", "/rustc/"] {
            ensure!(contains(&bin, remapped.as_bytes()), "{platform}: no {remapped} path: is the remap test still looking at the right thing?");
        }
    }
    Ok(())
}

/// This machine's directories that must not appear in a release binary: the
/// checkout, `$CARGO_HOME`, the release's target directory, the test build's,
/// the Rust toolchain's sysroot and `$HOME` (with a `/`, so that a one-letter
/// home does not match anything).
fn machine_paths() -> anyhow::Result<Vec<String>> {
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
    let mut paths = vec![
        repo_root().display().to_string(),
        cargo_home,
        testkit::release_target_dir()?.display().to_string(),
        testkit::target_dir().display().to_string(),
    ];
    let sysroot = run_command(cmd("rustc", &["--print", "sysroot"]), "rustc --print sysroot", SHORT)?.ensure_success()?;
    paths.push(sysroot.stdout.trim().to_owned());
    if home.len() > 1 {
        paths.push(format!("{}/", home.trim_end_matches('/')));
    }
    Ok(paths.into_iter().filter(|p| p.len() > 1).collect())
}

// ------------------------------------------------------------------ (2) reproducible

/// A copy of this checkout's files (tracked and untracked, not ignored) at `dest`.
fn copy_checkout(dest: &Path) -> anyhow::Result<usize> {
    let mut c = cmd("git", &["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
    c.current_dir(repo_root());
    let listing = run_command(c, "git ls-files", SHORT)?.ensure_success()?.stdout;
    let mut copied = 0;
    for rel in listing.split('\0').filter(|s| !s.is_empty()) {
        let from = repo_root().join(rel);
        let meta = match std::fs::symlink_metadata(&from) {
            Ok(m) => m,
            Err(_) => continue, // deleted in the working tree
        };
        let to = dest.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else if meta.is_file() {
            std::fs::copy(&from, &to).with_context(|| format!("copying {rel}"))?;
        }
        copied += 1;
    }
    Ok(copied)
}

/// The same commit from a copy of the checkout at another path (another length,
/// too) gives the same zip, `SHA256SUMS`, manifest and mirror documents. The
/// copy shares the release target directory (same toolchain and `Cargo.lock`),
/// so it compiles the provider's crate only: a dependency compiled again would
/// mean the checkout's path reached the dependencies' flags and the cache (the
/// test fails then too). Two checkout paths once gave different binaries:
/// cargo hashed the path of the `RUSTC_WORKSPACE_WRAPPER` (then in the
/// checkout) into the crate's `-C metadata`; scripts/release now names it bare.
#[test]
fn e2e_release_is_byte_identical_from_another_checkout_path() -> anyhow::Result<()> {
    let epoch = commit_epoch()?;
    let env = [("SOURCE_DATE_EPOCH", epoch.as_str())];
    let here = Release::build_from(&repo_root(), Some("linux_amd64"), &env)?;

    let copy = TestDir::new("release-checkout-copy")?;
    let root = copy.path().join("elsewhere").join("terraform-provider-datadog");
    let files = copy_checkout(&root)?;
    let start = Instant::now();
    let there = Release::build_from(&root, Some("linux_amd64"), &[("SOURCE_DATE_EPOCH", epoch.as_str()), ("RELEASE_VERBOSE", "1")])?;
    let took = start.elapsed();
    // The copy really compiled the provider, and nothing else.
    let log = &there.output().stderr;
    let compiled: Vec<&str> = log.lines().map(str::trim).filter(|l| l.starts_with("Compiling ")).collect();
    ensure!(
        compiled == [format!("Compiling terraform-provider-datadog v{} ({})", there.version(), root.display())],
        "the copy's release should compile the provider's crate and nothing else; it compiled {compiled:?}:\n{}",
        there.output().describe()
    );
    eprintln!("the release from a copy of the checkout ({files} files, at {}) took {:.0?} (the provider's crate only)", root.display(), took);

    for suffix in ["linux_amd64.zip", "SHA256SUMS", "manifest.json"] {
        ensure!(read(&here.file(suffix))? == read(&there.file(suffix))?, "{suffix} differs between {} and {}", repo_root().display(), root.display());
    }
    for hostname in HOSTNAMES {
        ensure!(version_json(&here, hostname)? == version_json(&there, hostname)?, "the mirror's {hostname} document differs");
    }
    let bin = binary_of(&there, "linux_amd64", copy.path())?;
    ensure!(!contains(&bin, root.display().to_string().as_bytes()), "the binary holds the copy's path");
    Ok(())
}

// ------------------------------------------------------------------ (3) arm64 under qemu

/// `qemu-aarch64 -L <sysroot>` when Debian's qemu-user and the arm64 C library are here.
fn qemu_aarch64() -> Result<Command, String> {
    let sysroot = Path::new("/usr/aarch64-linux-gnu");
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("qemu-aarch64")).find(|q| q.is_file()))
        .unwrap_or_default();
    let qemu = found.ok_or("qemu-aarch64 is not on PATH (Debian: apt-get install qemu-user; scripts/release installs it as root)")?;
    if !sysroot.join("lib").is_dir() {
        return Err(format!("{} is missing (Debian: apt-get install libc6-dev-arm64-cross)", sysroot.display()));
    }
    let mut c = Command::new(qemu);
    c.arg("-L").arg(sysroot);
    Ok(c)
}

fn client_cert_pem() -> anyhow::Result<String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth, rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    Ok(pem("CERTIFICATE", params.self_signed(&key)?.der()))
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<String> = b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// Kills and reaps a child we started when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn e2e_release_arm64_binary_refuses_by_hand_and_handshakes_under_qemu() -> anyhow::Result<()> {
    let release = Release::build_from(&repo_root(), Some("linux_arm64"), &[])?;
    if let Some(why) = release.skipped("linux_arm64") {
        eprintln!("skipping the arm64 smoke test: linux_arm64 was not built here: {why}");
        return Ok(());
    }
    if let Err(why) = qemu_aarch64() {
        eprintln!("skipping the arm64 smoke test: {why}");
        return Ok(());
    }
    let scratch = TestDir::new("release-arm64")?;
    let bin = scratch.path().join(format!("{BIN}_v{}", release.version()));
    unzip_binary(&release.zip("linux_arm64"), &bin)?;
    let qemu = || -> anyhow::Result<Command> {
        let mut c = qemu_aarch64().map_err(anyhow::Error::msg)?;
        c.arg(&bin).env_remove("TF_PLUGIN_MAGIC_COOKIE").env_remove("PLUGIN_CLIENT_CERT");
        Ok(c)
    };

    let mut version = qemu()?;
    version.arg("--version");
    let out = run_command(version, "qemu-aarch64 provider --version", SHORT)?.ensure_success()?;
    ensure!(out.stdout.trim() == format!("{BIN} {}", release.version()), "{}", out.describe());

    // Run by hand: go-plugin's refusal, exit 1.
    let out = run_command(qemu()?, "qemu-aarch64 provider", SHORT)?;
    ensure!(out.code() == Some(1) && out.stderr.contains("This binary is a plugin. These are not meant to be executed directly."), "{}", out.describe());

    // Started as Terraform starts it (AutoMTLS): the handshake line, with our
    // certificate made by the cross-compiled aws-lc.
    let sockets = TestDir::new("release-arm64-sockets")?;
    let mut c = qemu()?;
    c.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_UNIX_SOCKET_DIR", sockets.path())
        .env("PLUGIN_CLIENT_CERT", client_cert_pem()?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = Killed(c.spawn().context("starting the arm64 provider under qemu")?);
    let stdout = child.0.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(SHORT).map_err(|_| anyhow!("no handshake line within {SHORT:?}"))?;
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    ensure!(parts.len() == 6 && parts[..3] == ["1", "6", "unix"] && parts[4] == "grpc", "handshake line: {line:?}");
    ensure!(Path::new(parts[3]).starts_with(sockets.path()), "socket {} not in PLUGIN_UNIX_SOCKET_DIR", parts[3]);
    let cert = base64::engine::general_purpose::STANDARD_NO_PAD.decode(parts[5]).context("the handshake's certificate")?;
    ensure!(cert.first() == Some(&0x30), "the handshake's certificate is not DER");
    drop(child);
    eprintln!("linux_arm64 under qemu: --version, the refusal by hand and the AutoMTLS handshake line all as on amd64");
    Ok(())
}

// ------------------------------------------------------------------ (4) the packed filesystem mirror

#[test]
fn e2e_release_installs_packed_and_locks_every_platform_with_stable_hashes() -> anyhow::Result<()> {
    let release = Release::build()?;
    let version = release.version().to_owned();
    let work = TestDir::new("release-install")?;
    let mirror = work.path().join("mirror");
    let rc = work.path().join("cli.tfrc");
    let mut c = Command::new("bash");
    c.arg(repo_root().join("scripts").join("install")).arg("--dist").arg(release.dist()).arg("--mirror").arg(&mirror).arg("--rc").arg(&rc);
    let out = run_command(c, "scripts/install --dist ...", SHORT)?.ensure_success()?;
    let config = std::fs::read_to_string(&rc)?;
    ensure!(config.trim() == out.stdout.trim());
    for needed in ["filesystem_mirror", "include = [\"orgsync/datadog\"]", "exclude = [\"orgsync/*\"]"] {
        ensure!(config.contains(needed), "the CLI configuration lacks {needed:?}:\n{config}");
    }
    ensure!(out.stderr.contains("providers lock -fs-mirror="), "install should show the lock command:\n{}", out.stderr);
    for hostname in HOSTNAMES {
        let dir = mirror.join(hostname).join("orgsync").join("datadog");
        for platform in release.platforms() {
            let zip = dir.join(format!("{BIN}_{version}_{platform}.zip"));
            ensure!(read(&zip)? == read(&release.zip(platform))?, "{} is not the release's zip", zip.display());
        }
        ensure!(!dir.join(&version).exists(), "an unpacked {version} is left in {}", dir.display());
    }

    let expected = mirror_hashes(&release)?;
    let platform_args: Vec<String> = release.platforms().iter().map(|p| format!("-platform={p}")).collect();
    let mirror_arg = format!("-fs-mirror={}", mirror.display());
    let sb = Sandbox::datadog_only()?;
    for tf in clis(&sb)? {
        let tf = offline(tf.with_env("TF_CLI_CONFIG_FILE", &rc.display().to_string()));
        let shown = tf.describe();
        tf.write_main_tf(&main_tf(&version))?;
        let init = tf.run_ok(&["init", "-backend=false", "-input=false", "-no-color"]).with_context(|| format!("init with {shown}"))?;
        ensure!(init.stdout.contains(&format!("Installed orgsync/datadog v{version}")), "{shown}:\n{}", init.describe());
        let lock = tf.test_dir().read_file(".terraform.lock.hcl")?;
        let got = locked_hashes(&lock, tf.provider_address())?;
        ensure!(got.contains(&expected["linux_amd64"][0]), "{shown}: init locked {got:?}; the release's linux_amd64 h1 is {}", expected["linux_amd64"][0]);

        // Every platform, from any machine: the h1 of each zip's contents (the
        // release's own, computed by scripts/lib/release.py) and the zip's zh.
        let mut locked = Vec::new();
        for round in 0..2 {
            let dir = TestDir::new(&format!("release-lock-{round}"))?;
            dir.write_file("main.tf", &main_tf(&version))?;
            let mut args = vec!["providers", "lock", mirror_arg.as_str()];
            args.extend(platform_args.iter().map(String::as_str));
            let tf_round = offline(if tf.is_tofu() { Terraform::tofu(&sb)? } else { Terraform::pinned(&sb)? }.with_env("TF_CLI_CONFIG_FILE", &rc.display().to_string())).in_dir(dir);
            tf_round.run_ok(&args).with_context(|| format!("{shown}: providers lock"))?;
            locked.push(locked_hashes(&tf_round.test_dir().read_file(".terraform.lock.hcl")?, tf.provider_address())?);
        }
        ensure!(locked[0] == locked[1], "{shown}: two locks differ: {:?} vs {:?}", locked[0], locked[1]);
        let mut want = BTreeSet::new();
        for platform in release.platforms() {
            let hashes = &expected[platform.as_str()];
            ensure!(locked[0].contains(&hashes[0]), "{shown}: {platform}: lock has {:?}, the release's h1 is {}", locked[0], hashes[0]);
            want.insert(hashes[0].clone());
            if locked[0].iter().any(|h| h.starts_with("zh:")) {
                ensure!(locked[0].contains(&hashes[1]), "{shown}: {platform}: lock has {:?}, the zip's zh is {}", locked[0], hashes[1]);
                want.insert(hashes[1].clone());
            }
        }
        ensure!(locked[0] == want, "{shown}: the lock holds {:?}, expected exactly {want:?}", locked[0]);
        eprintln!("{shown}: providers lock from the packed mirror: {} hashes for {:?}, the same twice", want.len(), release.platforms());
    }
    Ok(())
}

// ------------------------------------------------------------------ (5) the network mirror over HTTPS

/// A static file server for a directory over HTTPS on 127.0.0.1 (HTTP/1.1, one
/// request per connection), stopped on drop.
struct HttpsMirror {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpsMirror {
    fn start(root: PathBuf, cert_der: Vec<u8>, key_der: Vec<u8>) -> anyhow::Result<HttpsMirror> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert_der)], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)))?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let seen = Arc::clone(&requests);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            if let Ok((stream, _)) = accepted {
                                let (acceptor, root, seen) = (acceptor.clone(), root.clone(), Arc::clone(&seen));
                                tokio::spawn(async move {
                                    let _ = tokio::time::timeout(Duration::from_secs(30), serve(acceptor, stream, root, seen)).await;
                                });
                            }
                        }
                    }
                }
            });
        });
        Ok(HttpsMirror { addr, requests, stop: Some(stop), thread: Some(thread) })
    }

    fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for HttpsMirror {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(acceptor: tokio_rustls::TlsAcceptor, stream: tokio::net::TcpStream, root: PathBuf, seen: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut tls = acceptor.accept(stream).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let path = target.split('?').next().unwrap_or_default().to_owned();
    if let Ok(mut s) = seen.lock() {
        s.push(format!("{method} {path}"));
    }
    let file = (method == "GET" && path.starts_with('/') && !path.split('/').any(|s| s == ".." || s == "."))
        .then(|| root.join(path.trim_start_matches('/')))
        .filter(|f| f.is_file());
    let (status, body, kind) = match file.map(std::fs::read) {
        Some(Ok(body)) => ("200 OK", body, if path.ends_with(".json") { "application/json" } else { "application/zip" }),
        _ => ("404 Not Found", b"not found\n".to_vec(), "text/plain"),
    };
    let header = format!("HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    tls.write_all(header.as_bytes()).await?;
    tls.write_all(&body).await?;
    tls.shutdown().await
}

/// A test CA (written as PEM to `dir/ca.pem`) and a server certificate it signed
/// for 127.0.0.1: (CA file, server certificate DER, server key PKCS#8 DER).
fn test_ca(dir: &TestDir) -> anyhow::Result<(PathBuf, Vec<u8>, Vec<u8>)> {
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(rcgen::DnType::CommonName, "e2e_release test CA");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign, rcgen::KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
    server.distinguished_name.push(rcgen::DnType::CommonName, "127.0.0.1");
    server.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = server.signed_by(&key, &issuer)?;
    let ca_file = dir.write_file("ca.pem", &pem("CERTIFICATE", ca_cert.der()))?;
    Ok((ca_file, cert.der().to_vec(), key.serialize_der()))
}

#[test]
fn e2e_release_installs_from_the_network_mirror_over_https() -> anyhow::Result<()> {
    let release = Release::build()?;
    let version = release.version().to_owned();
    let expected = mirror_hashes(&release)?;
    for hostname in HOSTNAMES {
        let dir = release.mirror().join(hostname).join("orgsync").join("datadog");
        let index: Value = serde_json::from_slice(&read(&dir.join("index.json"))?)?;
        ensure!(index == json!({"versions": {version.clone(): {}}}), "{hostname} index.json: {index}");
        let doc = version_json(&release, hostname)?;
        let platforms: Vec<&String> = doc["archives"].as_object().map(|a| a.keys().collect()).unwrap_or_default();
        ensure!(platforms == release.platforms().iter().collect::<Vec<_>>(), "{hostname}: archives for {platforms:?}");
    }

    let work = TestDir::new("release-network-mirror")?;
    let (ca_file, cert, key) = test_ca(&work)?;
    let server = HttpsMirror::start(release.mirror(), cert, key)?;
    let rc = work.write_file(
        "cli.tfrc",
        &format!(
            "provider_installation {{\n  network_mirror {{\n    url     = \"{}\"\n    include = [\"orgsync/datadog\"]\n  }}\n  direct {{\n    exclude = [\"orgsync/*\"]\n  }}\n}}\n",
            server.url()
        ),
    )?;
    let rc = rc.display().to_string();
    let ca = ca_file.display().to_string();
    let sb = Sandbox::datadog_only()?;

    // Without the test CA the mirror is not trusted: the TLS is real.
    let untrusted = offline(Terraform::pinned(&sb)?.with_env("TF_CLI_CONFIG_FILE", &rc).with_env("SSL_CERT_FILE", "/dev/null"));
    untrusted.write_main_tf(&main_tf(&version))?;
    let out = untrusted.run(&["init", "-backend=false", "-input=false", "-no-color"])?;
    ensure!(!out.success() && (out.stderr.contains("certificate") || out.stderr.contains("x509")), "init must refuse an untrusted mirror:\n{}", out.describe());

    for tf in clis(&sb)? {
        let tf = offline(tf.with_env("TF_CLI_CONFIG_FILE", &rc).with_env("SSL_CERT_FILE", &ca));
        let shown = tf.describe();
        let before = server.requests().len();
        tf.write_main_tf(&main_tf(&version))?;
        let init = tf.run_ok(&["init", "-backend=false", "-input=false", "-no-color"]).with_context(|| format!("init with {shown} from {}", server.url()))?;
        ensure!(init.stdout.contains(&format!("Installed orgsync/datadog v{version}")), "{shown}:\n{}", init.describe());
        let lock = tf.test_dir().read_file(".terraform.lock.hcl")?;
        let got = locked_hashes(&lock, tf.provider_address())?;
        ensure!(got.contains(&expected["linux_amd64"][0]), "{shown}: locked {got:?}; the mirror's linux_amd64 h1 is {}", expected["linux_amd64"][0]);
        let requests: Vec<String> = server.requests()[before..].to_vec();
        let host = if tf.is_tofu() { HOSTNAMES[1] } else { HOSTNAMES[0] };
        for wanted in [
            format!("GET /{host}/orgsync/datadog/index.json"),
            format!("GET /{host}/orgsync/datadog/{version}.json"),
            format!("GET /{}/orgsync/datadog/{BIN}_{version}_linux_amd64.zip", HOSTNAMES[0]),
        ] {
            ensure!(requests.contains(&wanted), "{shown}: the mirror saw {requests:?}, not {wanted:?}");
        }
        eprintln!("{shown}: init from the network mirror at {}: {requests:?}", server.url());
    }
    drop(server);
    Ok(())
}
