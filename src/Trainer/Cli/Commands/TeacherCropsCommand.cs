using System;
using System.CommandLine;
using System.IO;
using HeadTracking.Trainer.Data;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>teacher-crops</c>: real training crops with teacher labels.</summary>
internal static class TeacherCropsCommand
{
    public static Command Create()
    {
        var input = Text("--input", "Photos or folders of photos, comma-separated (default: the fetched sample photos).");
        var output = Text("--out", "Folder to write the crops and labels.jsonl into.", required: true);
        var perFace = Int("--per-face", "Crops made around each face (those where the teacher loses the face are dropped).", 200, 1, 100_000);
        var size = Int("--size", "Crop size in pixels.", 128, 32, 1024);
        var seed = Int("--seed", "Random seed: the same seed gives the same crops.", 0);
        var minFace = Number("--min-face", "Smallest face width as a fraction of the crop.", 0.25, 0.05, 1);
        var maxFace = Number("--max-face", "Largest face width as a fraction of the crop.", 0.6, 0.05, 1);
        var valid = Text("--valid-images", "Photo file names whose faces are held out as the valid split, comma-separated (default: sample6.jpg, whose people synth also holds out).");
        var minScore = Number("--min-score", "Smallest teacher score for a face, in the photo and in each crop.", 0.6, 0, 1);
        var preview = Text("--preview", "Also draw the first crops with their labels into this PNG.");
        var detector = Text("--detector", "BlazeFace front ONNX (default: the fetched one).");
        (Option<string> teacher, Option<double> maxDisagreement, Option<string> faceMesh) = TeacherOptions.DenseTeacherOptions();
        var c = new Command("teacher-crops", "Real training images: random crops (scale, shift, tilt, JPEG quality) around each face in photos; BlazeFace finds the face again on each crop (its box and score), and the dense teacher's label of the face in the photo (landmarks, keypoints, centre, pose) is carried through each crop's warp (--teacher blazeface: BlazeFace's keypoints on each crop instead).")
            { input, output, perFace, size, seed, minFace, maxFace, valid, minScore, preview, detector, teacher, maxDisagreement, faceMesh };
        c.SetAction(r =>
        {
            var options = new TeacherCropOptions
            {
                PerFace = r.GetValue(perFace),
                Size = r.GetValue(size),
                Seed = r.GetValue(seed),
                MinFace = r.GetValue(minFace),
                MaxFace = r.GetValue(maxFace),
                ValidImages = r.GetValue(valid) is { } v ? CliArgs.List(v) : ["sample6.jpg"],
                MinScore = (float)r.GetValue(minScore),
                MaxDisagreement = r.GetValue(maxDisagreement),
            };
            if (options.MaxFace < options.MinFace)
            {
                throw new ArgumentException("options --min-face/--max-face: min-face is larger than max-face");
            }

            string[] inputs = r.GetValue(input) is { } i ? CliArgs.List(i) : [ExternalData.Find("faces")];
            using var blazeFace = new Runtime.Detection.BlazeFaceDetector(r.GetValue(detector) ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")), minScore: 0.3f);
            string outDir = r.Get(output);
            using var dense = TeacherOptions.DenseTeacher(r.GetValue(teacher), r.GetValue(faceMesh));
            TeacherCrops.Summary sum = new TeacherCrops(blazeFace, options, dense).Run(inputs, outDir);
            Console.WriteLine($"{sum.Photos} photos, {sum.Faces} faces ({sum.ValidFaces} held out): wrote {sum.Written} crops ({sum.ValidWritten} valid) with teacher labels to {Path.GetFullPath(outDir)}; {sum.Dropped} crops dropped (teacher lost the face or saw a second one)" +
                (dense == null ? "" : $"; {sum.Unsure} faces left out (the dense teacher's pose on the mirror image differed by more than {options.MaxDisagreement} degrees)"));
            if (r.GetValue(preview) is { } png)
            {
                Report.PreviewLabels(outDir, png);
            }

            return 0;
        });
        return c;
    }
}
