"""Patients and the doctors who care for them."""

from flask import url_for

from portal.api import schemas
from portal.api.outputs import created_patient_out, patient_out
from portal.api.routing import no_content, operation, reply
from portal.care import services as care
from portal.db import utcnow
from portal.directory import services as directory

TAG = "Patients"
# Personal and medical data stay out of every cache.
NO_STORE = {"Cache-Control": "no-store"}


@operation(
    "/patients",
    "GET",
    summary="List patients",
    description="An admin sees every patient; a doctor those assigned to them or with a "
    "visit with them that was not cancelled (confirmed, completed or no-show).",
    tag=TAG,
    query=schemas.PatientQuery,
    response=schemas.PatientPage,
    errors=(403,),
)
def list_patients(caller, query):
    page = care.list_patients(actor=caller, q=query.q, page=query.page, per_page=query.per_page)
    return reply(
        schemas.PatientPage(
            # Everyone in this list is someone the caller may see in full.
            items=[patient_out(item, medical=True) for item in page.items],
            page=page.page,
            per_page=page.per_page,
            total=page.total,
        ),
        headers=NO_STORE,
    )


@operation(
    "/patients",
    "POST",
    summary="Create a patient record and account",
    description="The answer carries a one-time `activation_url` (and the same "
    "`activation_token`) with which the patient sets a password (admin).",
    tag=TAG,
    body=schemas.PatientIn,
    response=schemas.CreatedPatientOut,
    status=201,
    location=True,
    errors=(403,),
)
def create_patient(caller, body):
    patient, token = directory.create_patient(actor=caller, now=utcnow(), **body.model_dump())
    location = url_for("api.get_patient", patient_id=patient.id)
    return reply(created_patient_out(patient, token), status=201, location=location)


@operation(
    "/patients/<id:patient_id>",
    "GET",
    summary="One patient",
    description="For the patient, their doctors and admins; 404 for anyone else.",
    tag=TAG,
    response=schemas.PatientOut,
    errors=(404,),
)
def get_patient(caller, patient_id):
    # Whoever may open the record sees its medical fields; the read is audited.
    patient = care.open_record(actor=caller, patient_id=patient_id)
    return reply(patient_out(patient, medical=True), headers=NO_STORE)


@operation(
    "/patients/<id:patient_id>",
    "PATCH",
    summary="Change a patient's details",
    description="The patient on their own record, or an admin.",
    tag=TAG,
    body=schemas.PatientUpdate,
    response=schemas.PatientOut,
    errors=(403, 404),
)
def update_patient(caller, patient_id, body):
    patient = care.get_patient(actor=caller, patient_id=patient_id)
    directory.update_patient(
        actor=caller, patient=patient, now=utcnow(), **body.model_dump(exclude_unset=True)
    )
    return reply(patient_out(patient, True), headers=NO_STORE)


@operation(
    "/patients/<id:patient_id>/export",
    "GET",
    summary="Everything the portal holds about a patient",
    description="Profile, care team, visits, messages and who read the record, on the "
    "patient's behalf (admin). Audited as a read; never cached.",
    tag=TAG,
    response=schemas.ExportOut,
    errors=(403, 404),
)
def export_patient(caller, patient_id):
    data = care.export_patient_data(actor=caller, patient_id=patient_id)
    return reply(schemas.ExportOut(**care.export_document(data)), headers=NO_STORE)


@operation(
    "/patients/<id:patient_id>",
    "DELETE",
    summary="Close a patient's account",
    description="On the patient's behalf (admin): their personal and medical fields are "
    "erased, visits still to come cancelled, past visits kept without their name, every "
    "session and token ended; the audit trail keeps that it happened.",
    tag=TAG,
    status=204,
    errors=(403, 404),
)
def close_patient(caller, patient_id):
    care.close_patient_account(actor=caller, patient_id=patient_id, now=utcnow())
    return no_content()


@operation(
    "/doctors/<id:doctor_id>/patients/<id:patient_id>",
    "PUT",
    summary="Place a patient in a doctor's care",
    description="Doing it twice changes nothing (admin).",
    tag=TAG,
    status=204,
    errors=(403, 404),
)
def assign_patient(caller, doctor_id, patient_id):
    doctor = directory.get_doctor(doctor_id)
    patient = care.get_patient(actor=caller, patient_id=patient_id)
    directory.assign_patient(actor=caller, doctor=doctor, patient=patient)
    return no_content()


@operation(
    "/doctors/<id:doctor_id>/patients/<id:patient_id>",
    "DELETE",
    summary="Take a patient out of a doctor's care",
    description="Removing an assignment that does not exist changes nothing (admin).",
    tag=TAG,
    status=204,
    errors=(403, 404),
)
def unassign_patient(caller, doctor_id, patient_id):
    doctor = directory.get_doctor(doctor_id)
    patient = care.get_patient(actor=caller, patient_id=patient_id)
    directory.unassign_patient(actor=caller, doctor=doctor, patient=patient)
    return no_content()
