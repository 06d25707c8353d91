//! Generated documentation for the benchmarks: pages from a fixed vocabulary with a seeded
//! generator, so every run indexes (and uploads) the same text.

const WORDS: &[&str] = &[
    "load",
    "balancer",
    "target",
    "group",
    "idle",
    "timeout",
    "stream",
    "session",
    "drain",
    "health",
    "check",
    "deploy",
    "task",
    "service",
    "container",
    "listener",
    "certificate",
    "keepalive",
    "retry",
    "header",
    "origin",
    "host",
    "cluster",
    "capacity",
    "memory",
    "latency",
    "request",
    "response",
    "event",
    "resume",
    "protocol",
    "version",
    "client",
    "server",
    "tool",
    "resource",
    "prompt",
    "search",
    "index",
    "section",
    "anchor",
    "cache",
    "limit",
    "metric",
    "alarm",
    "log",
    "query",
    "policy",
    "role",
    "stack",
    "template",
    "parameter",
    "output",
    "export",
    "subnet",
    "security",
    "network",
    "interface",
    "port",
    "scaling",
    "rollback",
    "signal",
    "shutdown",
    "deadline",
    "gateway",
    "proxy",
    "sticky",
    "cookie",
    "registry",
    "image",
];

/// xorshift64*: deterministic, dependency-free.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn word(&mut self) -> &'static str {
        WORDS[(self.next_u64() % WORDS.len() as u64) as usize]
    }

    pub fn words(&mut self, n: usize) -> String {
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

/// `pages` pages of five sections each (an H1 and four H2s), about 60 words per section.
pub fn generate(pages: usize) -> Vec<(String, String)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..pages)
        .map(|p| {
            let mut text = format!(
                "---\ntitle: {} guide {p}\n---\n# {}\n\n{}\n",
                rng.words(2),
                rng.words(3),
                rng.words(60)
            );
            for _ in 0..4 {
                text.push_str(&format!("\n## {}\n\n{}\n", rng.words(3), rng.words(60)));
            }
            (format!("area-{}/page-{p}.md", p % 20), text)
        })
        .collect()
}
