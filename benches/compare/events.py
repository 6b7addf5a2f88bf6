"""Writes N mixed ECS JSON lines (dns, network, web, authentication; dotted
keys, no event.dataset so every rule reads every event) for run.sh."""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rng = random.Random(7)
qtypes = ["A", "AAAA", "MX", "TXT", "PTR", "AXFR"]
agents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "curl/8.4.0", "Mozilla/5.0 zgrab/0.x", "python-requests/2.31"]
paths = ["/", "/owa/auth/logon.aspx", "/index.html", "/api/v1/users", "/autodiscover/autodiscover.xml"]
codes = ["0", "50126", "50034", "0xC000006A"]
out = sys.stdout
for i in range(n):
    ip = f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
    ts = 1764500000 + i // 50
    kind = i % 4
    if kind == 0:
        e = {"@timestamp": ts, "source.ip": ip, "source.port": rng.randrange(1024, 65535), "destination.ip": "10.0.0.53",
             "dns.question.name": f"host{rng.randrange(5000)}.example.com", "dns.question.type": rng.choice(qtypes),
             "dns.response_code": "NOERROR", "host.name": "ns1"}
    elif kind == 1:
        e = {"@timestamp": ts, "source.ip": ip, "source.port": rng.randrange(1024, 65535), "destination.ip": "10.0.0.7",
             "destination.port": rng.choice([22, 43, 80, 443, 3389]), "network.transport": "tcp", "event.action": "allow",
             "observer.name": "fw1"}
    elif kind == 2:
        e = {"@timestamp": ts, "source.ip": ip, "http.request.method": "GET", "url.path": rng.choice(paths),
             "url.domain": "mail.example.com", "http.response.status_code": rng.choice([200, 302, 404]),
             "user_agent.original": rng.choice(agents), "destination.ip": "10.0.0.80"}
    else:
        e = {"@timestamp": ts, "source.ip": ip, "user.name": f"user{rng.randrange(2000)}@example.com",
             "user.domain": "example.com", "event.outcome": "failure", "error.code": rng.choice(codes),
             "service.name": "Microsoft Office", "user_agent.original": rng.choice(agents)}
    out.write(json.dumps(e) + "\n")
