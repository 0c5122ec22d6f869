BEGIN TRANSACTION;
CREATE TABLE items (
    run_id TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    request_hash TEXT,
    response TEXT,
    extracted TEXT,
    correct INTEGER,
    metrics TEXT,
    error TEXT,
    confidence REAL,
    question TEXT,
    answer TEXT,
    metadata TEXT,
    cluster TEXT,
    seq INTEGER,
    sample_hash TEXT,
    PRIMARY KEY (run_id, sample_id, variant)
);
INSERT INTO "items" VALUES('1517b36abfa6','m1','clean','2702ecb4a0fa3dced21e50ae09b113d8','A','A',0,NULL,NULL,NULL,'Which vessel supplies the left ventricle''s anterior wall?','B','{"topic": "cardio"}',NULL,0,'29d38d5d190caa4a');
INSERT INTO "items" VALUES('1517b36abfa6','m2','clean','7d92a07278b25a1821f5809397de8bf5','A','A',1,NULL,NULL,NULL,'Which drug reverses heparin?','A','{"topic": "pharm"}',NULL,1,'2e4991dca5b10057');
INSERT INTO "items" VALUES('1517b36abfa6','m3','clean','b8db93861f1ff21646debfb4e29527d7','A','A',0,NULL,NULL,NULL,'Which nerve is injured in wrist drop?','C','{"topic": "neuro"}',NULL,2,'9132676063b984ff');
INSERT INTO "items" VALUES('1517b36abfa6','y1','clean','6c65744a82a4fcc82c273a686a0cb6df','yes','yes',1,NULL,NULL,NULL,'Is aspirin an antiplatelet drug?','yes','{"topic": "pharm"}',NULL,3,'f3ac2fb0d06f5210');
INSERT INTO "items" VALUES('1517b36abfa6','y2','clean','4e9e53f08240a3d1cb0cc7dcc62f0a3f','yes','yes',0,NULL,NULL,NULL,'Is the liver on the left side of the abdomen?','no','{"topic": "anatomy"}',NULL,4,'26655593d1f4651e');
INSERT INTO "items" VALUES('1517b36abfa6','y3','clean','625f1c77c9109b8c1a52c1cad28ed624','yes','yes',0,NULL,NULL,NULL,'Is insulin made by alpha cells?','no','{"topic": "endo"}',NULL,5,'009f1e50377f1cb6');
INSERT INTO "items" VALUES('1517b36abfa6','o1','clean','7af7b09249dfff1822d445e663976da5','A','A',0,'{"bleu1": 0.0, "exact": 0.0, "f1": 0.0, "precision": 0.0, "recall": 0.0}',NULL,NULL,'What organ produces bile?','liver','{"topic": "anatomy"}',NULL,6,'7be9ed2ec3f2d57d');
INSERT INTO "items" VALUES('1517b36abfa6','o2','clean','9b9be1c63db2d10204f7e161964e18f6','A','A',0,'{"bleu1": 0.0, "exact": 0.0, "f1": 0.0, "precision": 0.0, "recall": 0.0}',NULL,NULL,'What is the most common cause of community-acquired pneumonia?','streptococcus pneumoniae','{"topic": "infect"}',NULL,7,'331442898adde98b');
INSERT INTO "items" VALUES('1517b36abfa6','n1','clean','500c7bd0ac054a1f8440ad264744c4e6','A',NULL,0,NULL,NULL,NULL,'How many chambers does the human heart have?','4','{"topic": "cardio"}',NULL,8,'2251b2bcdc3c1ce2');
INSERT INTO "items" VALUES('3465aafdf28e','m1','clean','e6906e23840aad6455e7f45cc5293027','The answer is B.','B',1,NULL,NULL,NULL,'Which vessel supplies the left ventricle''s anterior wall?','B','{"topic": "cardio"}',NULL,0,'29d38d5d190caa4a');
INSERT INTO "items" VALUES('3465aafdf28e','m2','clean','523b83eb89bd8b9306481d23230bff6d','C','C',0,NULL,NULL,NULL,'Which drug reverses heparin?','A','{"topic": "pharm"}',NULL,1,'2e4991dca5b10057');
INSERT INTO "items" VALUES('3465aafdf28e','y1','clean','e7ceead51c9368dd12dc60e22e097f27','Yes, it is.','yes',1,NULL,NULL,NULL,'Is aspirin an antiplatelet drug?','yes','{"topic": "pharm"}',NULL,3,'f3ac2fb0d06f5210');
INSERT INTO "items" VALUES('3465aafdf28e','m3','clean','0d0dccea76f07279888ace24db31c4a7','Radial nerve (C)','C',1,NULL,NULL,NULL,'Which nerve is injured in wrist drop?','C','{"topic": "neuro"}',NULL,2,'9132676063b984ff');
INSERT INTO "items" VALUES('3465aafdf28e','n1','clean','fc81161477ef73b8743b4fa72cc3fc6e','There are 4 chambers.','4',1,'{"abs_error": 0.0}',NULL,NULL,'How many chambers does the human heart have?','4','{"topic": "cardio"}',NULL,8,'2251b2bcdc3c1ce2');
INSERT INTO "items" VALUES('3465aafdf28e','y3','clean','c8ff4a930d768ef04ebc8bb0d31650d6','I am not sure.',NULL,0,NULL,NULL,NULL,'Is insulin made by alpha cells?','no','{"topic": "endo"}',NULL,5,'009f1e50377f1cb6');
INSERT INTO "items" VALUES('3465aafdf28e','y2','clean','e185f2b14457bf866c3c2200944a72b9','yes','yes',0,NULL,NULL,NULL,'Is the liver on the left side of the abdomen?','no','{"topic": "anatomy"}',NULL,4,'26655593d1f4651e');
INSERT INTO "items" VALUES('3465aafdf28e','o1','clean','72b2ff8ca6ae48ff70194c134a6edc8f','The liver','The liver',1,'{"bleu1": 1.0, "exact": 1.0, "f1": 1.0, "precision": 1.0, "recall": 1.0}',NULL,NULL,'What organ produces bile?','liver','{"topic": "anatomy"}',NULL,6,'7be9ed2ec3f2d57d');
INSERT INTO "items" VALUES('3465aafdf28e','o2','clean','ac77b8c6c08ce0470f4073b0fa4b3049','Staphylococcus aureus','Staphylococcus aureus',0,'{"bleu1": 0.0, "exact": 0.0, "f1": 0.0, "precision": 0.0, "recall": 0.0}',NULL,NULL,'What is the most common cause of community-acquired pneumonia?','streptococcus pneumoniae','{"topic": "infect"}',NULL,7,'331442898adde98b');
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema','2');
CREATE TABLE responses (
    request_hash TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    text TEXT,
    texts TEXT,
    finish_reason TEXT,
    logprobs TEXT,
    option_logprobs TEXT,
    usage TEXT,
    latency REAL,
    error TEXT,
    created TEXT NOT NULL
);
INSERT INTO "responses" VALUES('2702ecb4a0fa3dced21e50ae09b113d8','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"Which vessel supplies the left ventricle''s anterior wall?\nA. Right coronary artery\nB. Left anterior descending artery\nC. Circumflex artery\nAnswer with the option''s letter from the given choices directly.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','A',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('7d92a07278b25a1821f5809397de8bf5','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"Which drug reverses heparin?\nA. Protamine sulfate\nB. Vitamin K\nC. Naloxone\nAnswer with the option''s letter from the given choices directly.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','A',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('b8db93861f1ff21646debfb4e29527d7','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"Which nerve is injured in wrist drop?\nA. Ulnar nerve\nB. Median nerve\nC. Radial nerve\nAnswer with the option''s letter from the given choices directly.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','A',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('6c65744a82a4fcc82c273a686a0cb6df','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"Is aspirin an antiplatelet drug?\nAnswer with yes or no.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','yes',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('4e9e53f08240a3d1cb0cc7dcc62f0a3f','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"Is the liver on the left side of the abdomen?\nAnswer with yes or no.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','yes',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('625f1c77c9109b8c1a52c1cad28ed624','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"Is insulin made by alpha cells?\nAnswer with yes or no.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','yes',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('7af7b09249dfff1822d445e663976da5','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"What organ produces bile?\nAnswer the question using a single word or phrase.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','A',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('9b9be1c63db2d10204f7e161964e18f6','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"What is the most common cause of community-acquired pneumonia?\nAnswer the question using a single word or phrase.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','A',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('500c7bd0ac054a1f8440ad264744c4e6','baseline:constant(A/yes)','{"continuations":[],"messages":[{"content":[{"text":"How many chambers does the human heart have?\nAnswer with a single number.","type":"text"}],"role":"user"}],"model":"baseline:constant(A/yes)","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','A',NULL,'stop',NULL,NULL,NULL,0.0,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('e6906e23840aad6455e7f45cc5293027','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"Which vessel supplies the left ventricle''s anterior wall?\nA. Right coronary artery\nB. Left anterior descending artery\nC. Circumflex artery\nAnswer with the option''s letter from the given choices directly.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','The answer is B.',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',9.80885399985709227621e-03,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('523b83eb89bd8b9306481d23230bff6d','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"Which drug reverses heparin?\nA. Protamine sulfate\nB. Vitamin K\nC. Naloxone\nAnswer with the option''s letter from the given choices directly.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','C',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',1.04398250000485859345e-02,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('e7ceead51c9368dd12dc60e22e097f27','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"Is aspirin an antiplatelet drug?\nAnswer with yes or no.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','Yes, it is.',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',1.0055161000082080136e-02,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('0d0dccea76f07279888ace24db31c4a7','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"Which nerve is injured in wrist drop?\nA. Ulnar nerve\nB. Median nerve\nC. Radial nerve\nAnswer with the option''s letter from the given choices directly.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','Radial nerve (C)',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',1.18432059998667682521e-02,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('fc81161477ef73b8743b4fa72cc3fc6e','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"How many chambers does the human heart have?\nAnswer with a single number.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','There are 4 chambers.',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',6.13502100009100104216e-03,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('c8ff4a930d768ef04ebc8bb0d31650d6','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"Is insulin made by alpha cells?\nAnswer with yes or no.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','I am not sure.',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',1.19495140002072730567e-02,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('e185f2b14457bf866c3c2200944a72b9','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"Is the liver on the left side of the abdomen?\nAnswer with yes or no.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','yes',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',1.26692670000920770689e-02,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('72b2ff8ca6ae48ff70194c134a6edc8f','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"What organ produces bile?\nAnswer the question using a single word or phrase.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','The liver',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',7.96957400007158867083e-03,NULL,'2026-11-30T07:17:24');
INSERT INTO "responses" VALUES('ac77b8c6c08ce0470f4073b0fa4b3049','openai:fixture-model','{"continuations":[],"messages":[{"content":[{"text":"What is the most common cause of community-acquired pneumonia?\nAnswer the question using a single word or phrase.","type":"text"}],"role":"user"}],"model":"openai:fixture-model","params":{"logprobs":false,"max_tokens":512,"n":1,"seed":null,"stop":[],"temperature":0.0,"top_logprobs":null,"top_p":null}}','Staphylococcus aureus',NULL,'stop',NULL,NULL,'{"completion_tokens": 1, "prompt_tokens": 3}',0.00788546899980247,NULL,'2026-11-30T07:17:24');
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    probe TEXT,
    config TEXT NOT NULL,
    versions TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    status TEXT NOT NULL,
    n_total INTEGER
);
INSERT INTO "runs" VALUES('1517b36abfa6','constant(A/yes)','custom',NULL,'{"benchmark": {"name": "custom", "root": "data.jsonl"}, "limit": null, "model": "baseline:constant(A/yes)", "params": {"logprobs": false, "max_tokens": 512, "n": 1, "seed": null, "stop": [], "temperature": 0.0, "top_logprobs": null, "top_p": null}, "prompt": "default", "scoring": "default", "seed": 0, "solver": {"name": "clean"}}','{"backend": "baseline", "medgauge": "0.1.0", "python": "3.11.7"}','2026-11-30T07:17:24','2026-11-30T07:17:24','completed',9);
INSERT INTO "runs" VALUES('3465aafdf28e','fixture-model','custom',NULL,'{"benchmark": {"name": "custom", "root": "data.jsonl"}, "limit": null, "model": "openai:fixture-model", "params": {"logprobs": false, "max_tokens": 512, "n": 1, "seed": null, "stop": [], "temperature": 0.0, "top_logprobs": null, "top_p": null}, "prompt": "default", "scoring": "default", "seed": 0, "solver": {"name": "clean"}}','{"backend": "openai", "medgauge": "0.1.0", "python": "3.11.7"}','2026-11-30T07:17:24','2026-11-30T07:17:24','completed',9);
COMMIT;
