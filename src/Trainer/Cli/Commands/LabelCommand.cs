using System;
using System.CommandLine;
using System.IO;
using HeadTracking.Trainer.Data;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>label</c>: teacher labels for real images or video frames.</summary>
internal static class LabelCommand
{
    public static Command Create()
    {
        var input = Text("--input", "A folder of images or a video file.", required: true);
        var output = Text("--out", "Folder to write the images and labels.jsonl into.", required: true);
        var minScore = Number("--min-score", "Smallest face probability kept.", 0.5, 0, 1);
        var every = Int("--every", "For video: label every n-th frame.", 1, 1);
        var maxFrames = Int("--max-frames", "For video: stop after this many labelled frames.", int.MaxValue, 1);
        var strict = Flag("--strict", "Stop at the first unreadable image instead of skipping it.");
        var preview = Text("--preview", "Also draw the first labels into this PNG.");
        var detector = Text("--detector", "BlazeFace front ONNX (default: the fetched one).");
        (Option<string> teacher, Option<double> maxDisagreement, Option<string> faceMesh) = TeacherOptions.DenseTeacherOptions();
        var c = new Command("label", "Teacher labels for real images or video frames: BlazeFace boxes and scores; with the dense teacher (the default) also 468 face-mesh landmarks, the six keypoints, head centre and pose fitted to them.")
            { input, output, minScore, every, maxFrames, strict, preview, detector, teacher, maxDisagreement, faceMesh };
        c.SetAction(r =>
        {
            using var dense = TeacherOptions.DenseTeacher(r.GetValue(teacher), r.GetValue(faceMesh));
            return Label(r.Get(input), r.Get(output), (float)r.GetValue(minScore), r.GetValue(every), r.GetValue(maxFrames), r.GetValue(strict), r.GetValue(preview), r.GetValue(detector), dense, r.GetValue(maxDisagreement));
        });
        return c;
    }

    private static int Label(string input, string output, float minScore, int every, int maxFrames, bool strict, string? preview, string? detectorPath,
        Teachers.FaceMeshTeacher? dense, double maxDisagreement)
    {
        using var detector = new Runtime.Detection.BlazeFaceDetector(detectorPath ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")), minScore: minScore);
        var skipped = new SkipReport();
        (int images, int faces) = new TeacherLabeler(detector, minScore, dense, maxDisagreement).Run(input, output, skipped, strict, every, maxFrames);
        Console.WriteLine($"Labelled {images} images: {faces} faces into {Path.GetFullPath(output)}{Path.DirectorySeparatorChar}{LabelsFile.FileName}; {skipped}");
        if (preview != null)
        {
            Report.PreviewLabels(output, preview);
        }

        return 0;
    }
}
