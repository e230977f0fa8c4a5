# syntax=docker/dockerfile:1
#
# The one `mercato` binary in a small image. Every service (and the web pages) runs
# from this image with a different `--services`; see deploy/ for Compose and Kubernetes.
#
#   DOCKER_BUILDKIT=1 docker build -t mercato .
#
# Two stages: the Rust toolchain and the build cache stay in the builder; the runtime
# image has Debian's slim base, CA certificates (SMTP over TLS, S3, Midtrans) and the
# binary, nothing else.

# Must name the same release as rust-toolchain.toml (channel = "1.95.0"). The file
# itself is left out of the build context (.dockerignore): inside the image it would
# make rustup download rustfmt and clippy, which a release build does not use.
ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /build
COPY . .
# Cache mounts keep the crates.io downloads and the incremental target directory
# between builds on the same machine, so a code change does not rebuild every
# dependency. The target directory is a cache mount and vanishes after this step,
# hence the copy out of it in the same RUN.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/build/target,sharing=locked \
    cargo build --release --locked -p mercato \
    && install -D -m 0755 target/release/mercato /out/mercato

# Same Debian release as the builder, so the binary finds the glibc it was linked to.
FROM debian:bookworm-slim AS runtime
# No version pin for ca-certificates: bookworm is a stable release whose archive keeps
# only the current version, so a pin would break the build at the next security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mercato \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/mercato \
        --shell /usr/sbin/nologin mercato \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/mercato
COPY --from=builder /out/mercato /usr/local/bin/mercato

# The data directory only matters in the single-process topology (SQLite, keys, media);
# it must still be writable, since every process creates it on start. A container must
# listen on all interfaces to be reachable; the default (127.0.0.1) suits a laptop.
ENV MERCATO_DATA_DIR=/var/lib/mercato \
    MERCATO_HTTP__LISTEN=0.0.0.0:8080
WORKDIR /var/lib/mercato
# A numeric user, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080

# `mercato healthcheck` asks this process's /readyz (http://127.0.0.1:8080/readyz by
# default) and exits 0 on 200; the image has no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["mercato", "healthcheck"]

ENTRYPOINT ["mercato"]
CMD ["serve"]
