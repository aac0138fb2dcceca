using System.CommandLine;
using System.IO;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli;

/// <summary>The options that choose the teacher of label and teacher-crops, and the teacher they name.</summary>
internal static class TeacherOptions
{
    /// <summary>The options that choose the teacher of label and teacher-crops.</summary>
    public static (Option<string> Teacher, Option<double> MaxDisagreement, Option<string> FaceMesh) DenseTeacherOptions()
    {
        var teacher = Text("--teacher", "facemesh (default): BlazeFace finds the face, MediaPipe Face Mesh (imported from TF.js) gives 468 landmarks, and the canonical mesh fitted to them the pose; blazeface: BlazeFace's box and 6 keypoints only.");
        teacher.AcceptOnlyFromAmong("facemesh", "blazeface");
        var maxDisagreement = Number("--max-disagreement", "facemesh teacher: leave out faces whose pose it cannot reproduce on the mirror image within this many degrees.", 10, 0, 180);
        var faceMesh = Text("--face-mesh", "facemesh teacher: the TF.js model.json (default: the fetched external/face-landmarks/facemesh.json).");
        return (teacher, maxDisagreement, faceMesh);
    }

    /// <summary>The dense teacher, or null for --teacher blazeface.</summary>
    public static Teachers.FaceMeshTeacher? DenseTeacher(string? teacher, string? modelJson) =>
        teacher == "blazeface" ? null : new Teachers.FaceMeshTeacher(
            modelJson ?? ExternalData.Find(Path.Combine("face-landmarks", "facemesh.json")),
            ExternalData.Find(Path.Combine("facemesh", "geometry_pipeline_metadata_landmarks.binarypb")));
}
