-- CreateIndex
CREATE INDEX "AccessRequest_organizationId_id_idx" ON "AccessRequest"("organizationId", "id");

-- CreateIndex
CREATE INDEX "AccessRequest_organizationId_status_id_idx" ON "AccessRequest"("organizationId", "status", "id");

-- CreateIndex
CREATE INDEX "AccessRequest_requesterId_id_idx" ON "AccessRequest"("requesterId", "id");

-- CreateIndex
CREATE INDEX "AccessAuthorization_organizationId_id_idx" ON "AccessAuthorization"("organizationId", "id");

-- CreateIndex
CREATE INDEX "AccessAuthorization_userId_id_idx" ON "AccessAuthorization"("userId", "id");

-- CreateIndex
CREATE INDEX "TaskExecution_organizationId_id_idx" ON "TaskExecution"("organizationId", "id");

-- CreateIndex
CREATE INDEX "AuditEvent_organizationId_subjectId_sequence_idx" ON "AuditEvent"("organizationId", "subjectId", "sequence");

-- CreateIndex
CREATE INDEX "AuditEvent_organizationId_actorId_sequence_idx" ON "AuditEvent"("organizationId", "actorId", "sequence");
