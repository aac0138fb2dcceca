using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Cli;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Data.Loaders;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Synthesis;
using HeadTracking.Trainer.Training;
using OpenCvSharp;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer;

internal static partial class Program
{
    public static int Main(string[] args)
    {
        bool verbose = args.Contains("--verbose");
        RootCommand root = Commands();
        try
        {
            ParseResult parsed = root.Parse(CliArgs.MergeRecipe(args));
            if (parsed.Errors.Count > 0)
            {
                Console.Error.WriteLine($"headtracker-train: {parsed.Errors[0].Message} (see --help)");
                return 2;
            }

            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or NotSupportedException or InvalidOperationException)
        {
            Console.Error.WriteLine($"headtracker-train: {e.Message}");
            return 2;
        }
        catch (Exception e) when (!verbose)
        {
            Console.Error.WriteLine($"headtracker-train: unexpected {e.GetType().Name}: {e.Message} (run with --verbose for details)");
            return 1;
        }
    }

    /// <summary>The command tree; each command's --help lists its options.</summary>
    internal static RootCommand Commands()
    {
        var root = new RootCommand(
            "headtracker-train: builds, fine-tunes, evaluates and exports head-tracking models, and makes their data. " +
            "Any command takes --recipe FILE.json, a JSON object of its options (\"epochs\": 5, \"heads\": [\"center\", \"box\"]); " +
            "options given on the command line win.");
        var verbose = Flag("--verbose", "Print stack traces of unexpected errors.");
        verbose.Recursive = true;
        root.Options.Add(verbose);
        foreach (Command c in new[] { InitCommand(), ExportCommand(), InspectCommand(), SynthCommandLine(), SynthVideoCommandLine(), PhotoVideoCommand(), SynthCountCommand(), MosaicCommand(), LabelCommand(), TeacherCropsCommand(), DataCommand(), TrainCommand(), LrFindCommand(), EvalCommand(), InterpretCommand(), Cli.Commands.ImportTfjsCommand.Create() })
        {
            root.Subcommands.Add(c);
        }

        return root;
    }

    private static Command InitCommand()
    {
        var backbone = Text("--backbone", $"Backbone: {string.Join(", ", BackboneRegistry.Names)}.", required: true);
        var heads = Text("--heads", $"Comma-separated heads: {string.Join(", ", ModelConfig.HeadKinds)}.", required: true);
        var output = Text("--out", "Checkpoint folder to write.", required: true);
        var size = Int("--size", "Square input size (0: the backbone's default).", 0, 0, 1024);
        var weights = Text("--weights", "Pretrained backbone weights: MediaPipe's BlazeFace ONNX for blazeface, or an ONNX file with torchvision's names.");
        var classes = Text("--classes", "Class names for a class head, comma-separated.");
        var multiLabel = Flag("--multi-label", "The class head is multi-label.");
        var name = Text("--name", "Model name for the manifest.");
        var seed = Int("--seed", "Random seed.", 0);
        var maskStride = Int("--mask-stride", "Mask head: the finest feature stride it decodes to (0: the backbone's finest).", 0, 0, 64);
        var maskWidth = Int("--mask-width", "Mask head: channels of its decoder.", 32, 1, 1024);
        var pointHead = Text("--point-head", "center and keypoints heads: regress or heatmap (default regress).");
        var c = new Command("init", "A new model as a checkpoint folder, optionally with pretrained backbone weights.")
            { backbone, heads, output, size, weights, classes, multiLabel, name, seed, maskStride, maskWidth, pointHead };
        c.SetAction(r => Init(r.Get(backbone), CliArgs.List(r.Get(heads)), r.Get(output), r.GetValue(size), r.GetValue(weights),
            r.GetValue(classes) is { } cl ? CliArgs.List(cl) : null, r.GetValue(multiLabel), r.GetValue(name) ?? "headtracker", r.GetValue(seed),
            r.GetValue(maskStride) is > 0 and var ms ? ms : null, r.GetValue(maskWidth), r.GetValue(pointHead)));
        return c;
    }

    private static Command ExportCommand()
    {
        var checkpoint = Text("--checkpoint", "Checkpoint folder (model.json, weights.dat).", required: true);
        var output = Text("--out", "ONNX file to write.", required: true);
        var foldBn = Flag("--fold-bn", "Fold each BatchNorm into the Conv before it.");
        var c = new Command("export", "Writes a checkpoint as ONNX (IR 8, opset 17) with its manifest.") { checkpoint, output, foldBn };
        c.SetAction(r => Export(r.Get(checkpoint), r.Get(output), r.GetValue(foldBn)));
        return c;
    }

    private static Command InspectCommand()
    {
        var file = new Argument<string>("FILE") { Description = "An ONNX file." };
        var nodes = Flag("--nodes", "Also list every node.");
        var c = new Command("inspect", "Prints an ONNX file's inputs, outputs, manifest, op counts and parameter count.") { file, nodes };
        c.SetAction(r =>
        {
            OnnxInspector.Print(r.GetValue(file)!, Console.Out, r.GetValue(nodes));
            return 0;
        });
        return c;
    }

    private static Command SynthCommandLine()
    {
        var output = Text("--out", "Folder to write NNNNNN.jpg, NNNNNN_mask.png and labels.jsonl into.", required: true);
        var count = Int("--count", "How many images.", 1000, 1, 10_000_000);
        var size = Int("--size", "Image size in pixels.", 128, 32, 1024);
        var seed = Int("--seed", "Random seed: the same seed gives the same bytes.", 0);
        var threads = Int("--threads", "Worker threads.", Environment.ProcessorCount, 1, 256);
        var preview = Text("--preview", "Also draw the first samples with their labels into this PNG.");
        var faces = Text("--faces", "Folder of face photos to texture heads from (default: the fetched samples).");
        var backgrounds = Text("--backgrounds", "Folder of background photos (default: OpenCV's samples).");
        var minFace = Number("--min-face", "Smallest face width as a fraction of the image.", 0.2, 0.05, 1.5);
        var maxFace = Number("--max-face", "Largest face width as a fraction of the image.", 0.6, 0.05, 1.5);
        var maxShift = Number("--max-shift", "How far the head may be from the centre, as a fraction of the image.", 0.5, 0, 0.5);
        var noOcclusion = Flag("--no-occlusion", "Never put an occluder over the head.");
        var parts = Flag("--parts", "Write a segmentation data set instead, in CamVid's layout: images/, labels/NNNNNN_P.png with the part of every pixel (background, face, hair, neck, occluder), codes.txt, valid.txt.");
        var c = new Command("synth", "Renders labelled synthetic heads (textured face mesh, skull, hair, neck) over real backgrounds.")
            { output, count, size, seed, threads, preview, faces, backgrounds, minFace, maxFace, maxShift, noOcclusion, parts };
        c.SetAction(r =>
        {
            var options = new SynthOptions
            {
                Size = r.GetValue(size),
                Seed = r.GetValue(seed),
                MinFaceFraction = r.GetValue(minFace),
                MaxFaceFraction = r.GetValue(maxFace),
                MaxShift = r.GetValue(maxShift),
                OcclusionProbability = r.GetValue(noOcclusion) ? 0 : 0.15,
            };
            if (options.MaxFaceFraction < options.MinFaceFraction)
            {
                throw new ArgumentException("options --min-face/--max-face: min-face is larger than max-face");
            }

            return Synth(options, r.Get(output), r.GetValue(count), r.GetValue(threads), r.GetValue(preview), new SynthCommand.Sources(r.GetValue(faces), r.GetValue(backgrounds)), r.GetValue(parts));
        });
        return c;
    }

    private static Command SynthVideoCommandLine()
    {
        var output = Text("--out", "Folder to write video.avi (MJPG) and labels.jsonl (the truth of every frame) into.", required: true);
        var frames = Int("--frames", "How many frames.", 300, 1, 1_000_000);
        var fps = Number("--fps", "Frame rate.", 30, 1, 240);
        var size = Int("--size", "Frame size in pixels (square).", 256, 32, 2048);
        var fov = Number("--fov", "Camera's horizontal field of view in degrees.", 60, 20, 120);
        var seed = Int("--seed", "Random seed: picks the person, background and light.", 0);
        var sample = Int("--sample", "Which sample of the seed to animate (another person, background, light).", 0, 0);
        var face = Number("--face", "Average face width as a fraction of the frame.", 0.3, 0.02, 1);
        var threads = Int("--threads", "Worker threads.", Environment.ProcessorCount, 1, 256);
        var c = new Command("synth-video", "Renders a video of one synthetic person turning, nodding, tilting and moving, with the truth of every frame.")
            { output, frames, fps, size, fov, seed, sample, face, threads };
        c.SetAction(r =>
        {
            // Held-out identities only: footage for testing a model should show no one it trained on.
            var options = new SynthOptions { Size = r.GetValue(size), Seed = r.GetValue(seed), ValidFraction = 1, OcclusionProbability = 0 };
            HeadSynthesizer synth = SynthCommand.Create(options, new SynthCommand.Sources(), Console.Out);
            SynthVideo.Write(synth, r.Get(output), r.GetValue(frames), r.GetValue(fps), r.GetValue(fov), r.GetValue(sample), r.GetValue(threads), Console.Out, r.GetValue(face));
            return 0;
        });
        return c;
    }

    private static Command PhotoVideoCommand()
    {
        var output = Text("--out", "Folder to write video.avi (MJPG), labels.jsonl (box, keypoints and centre per frame) and motion.jsonl (roll, scale, shift per frame) into.", required: true);
        var photo = Text("--photo", "The photo to move (default: the fetched sample6.jpg, whose people training holds out); the largest face in it is framed.");
        var frames = Int("--frames", "How many frames.", 300, 1, 1_000_000);
        var still = Int("--still", "Frames held perfectly still before the motion starts.", 30, 0);
        var fps = Number("--fps", "Frame rate.", 30, 1, 240);
        var width = Int("--width", "Frame width in pixels.", 640, 32, 4096);
        var height = Int("--height", "Frame height in pixels.", 480, 32, 4096);
        var face = Number("--face", "Face width (BlazeFace's box) as a fraction of the frame's width.", 1 / 3.0, 0.06, 1);
        var detector = Text("--detector", "BlazeFace front ONNX (default: the fetched one).");
        var c = new Command("photo-video", "Moves a real photo along a known smooth path (still, then roll +-12 deg, zoom +-15%, drift), as a video with the truth of every frame.")
            { output, photo, frames, still, fps, width, height, face, detector };
        c.SetAction(r =>
        {
            string path = r.GetValue(photo) ?? Path.Combine(ExternalData.Find("faces"), "sample6.jpg");
            using var clip = new PhotoVideo(path, r.GetValue(detector) ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")), r.GetValue(width), r.GetValue(height), r.GetValue(face));
            clip.Write(r.Get(output), r.GetValue(frames), r.GetValue(fps), r.GetValue(still), Console.Out);
            return 0;
        });
        return c;
    }

    private static Command LabelCommand()
    {
        var input = Text("--input", "A folder of images or a video file.", required: true);
        var output = Text("--out", "Folder to write the images and labels.jsonl into.", required: true);
        var minScore = Number("--min-score", "Smallest face probability kept.", 0.5, 0, 1);
        var every = Int("--every", "For video: label every n-th frame.", 1, 1);
        var maxFrames = Int("--max-frames", "For video: stop after this many labelled frames.", int.MaxValue, 1);
        var strict = Flag("--strict", "Stop at the first unreadable image instead of skipping it.");
        var preview = Text("--preview", "Also draw the first labels into this PNG.");
        var detector = Text("--detector", "BlazeFace front ONNX (default: the fetched one).");
        (Option<string> teacher, Option<double> maxDisagreement, Option<string> faceMesh) = DenseTeacherOptions();
        var c = new Command("label", "Teacher labels for real images or video frames: BlazeFace boxes and scores; with the dense teacher (the default) also 468 face-mesh landmarks, the six keypoints, head centre and pose fitted to them.")
            { input, output, minScore, every, maxFrames, strict, preview, detector, teacher, maxDisagreement, faceMesh };
        c.SetAction(r =>
        {
            using var dense = DenseTeacher(r.GetValue(teacher), r.GetValue(faceMesh));
            return Label(r.Get(input), r.Get(output), (float)r.GetValue(minScore), r.GetValue(every), r.GetValue(maxFrames), r.GetValue(strict), r.GetValue(preview), r.GetValue(detector), dense, r.GetValue(maxDisagreement));
        });
        return c;
    }

    /// <summary>The options that choose the teacher of label and teacher-crops.</summary>
    private static (Option<string> Teacher, Option<double> MaxDisagreement, Option<string> FaceMesh) DenseTeacherOptions()
    {
        var teacher = Text("--teacher", "facemesh (default): BlazeFace finds the face, MediaPipe Face Mesh (imported from TF.js) gives 468 landmarks, and the canonical mesh fitted to them the pose; blazeface: BlazeFace's box and 6 keypoints only.");
        teacher.AcceptOnlyFromAmong("facemesh", "blazeface");
        var maxDisagreement = Number("--max-disagreement", "facemesh teacher: leave out faces whose pose it cannot reproduce on the mirror image within this many degrees.", 10, 0, 180);
        var faceMesh = Text("--face-mesh", "facemesh teacher: the TF.js model.json (default: the fetched external/face-landmarks/facemesh.json).");
        return (teacher, maxDisagreement, faceMesh);
    }

    /// <summary>The dense teacher, or null for --teacher blazeface.</summary>
    private static Teachers.FaceMeshTeacher? DenseTeacher(string? teacher, string? modelJson) =>
        teacher == "blazeface" ? null : new Teachers.FaceMeshTeacher(
            modelJson ?? ExternalData.Find(Path.Combine("face-landmarks", "facemesh.json")),
            ExternalData.Find(Path.Combine("facemesh", "geometry_pipeline_metadata_landmarks.binarypb")));

    private static Command TeacherCropsCommand()
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
        (Option<string> teacher, Option<double> maxDisagreement, Option<string> faceMesh) = DenseTeacherOptions();
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
            using var dense = DenseTeacher(r.GetValue(teacher), r.GetValue(faceMesh));
            TeacherCrops.Summary sum = new TeacherCrops(blazeFace, options, dense).Run(inputs, outDir);
            Console.WriteLine($"{sum.Photos} photos, {sum.Faces} faces ({sum.ValidFaces} held out): wrote {sum.Written} crops ({sum.ValidWritten} valid) with teacher labels to {Path.GetFullPath(outDir)}; {sum.Dropped} crops dropped (teacher lost the face or saw a second one)" +
                (dense == null ? "" : $"; {sum.Unsure} faces left out (the dense teacher's pose on the mirror image differed by more than {options.MaxDisagreement} degrees)"));
            if (r.GetValue(preview) is { } png)
            {
                PreviewLabels(outDir, png);
            }

            return 0;
        });
        return c;
    }

    private static Command DataCommand()
    {
        var format = Text("--format", $"{string.Join(", ", DataSpec.Formats)}.", required: true);
        var path = Text("--path", "The labels file or folder, CSV, root folder, or (idx) the images file or the folder of idx files.", required: true);
        var images = Text("--images", "csv and points: the image folder; boxes: the root holding the folders (default: the CSV's folder).");
        var labels = Text("--labels", "idx: the labels file.");
        var labelRegex = Text("--label-regex", "folder: label each image by the first group of this regex on its file name, e.g. '(.+)_\\d+.jpg$'.");
        var valueColumns = Text("--value-columns", "csv: columns of continuous targets, comma-separated.");
        var strict = Flag("--strict", "Stop at the first bad line, naming the file and line.");
        var preview = Text("--preview", "Also draw the first items with their labels into this PNG.");
        var c = new Command("data", "Loads a data set and reports what it holds and what it skipped.") { format, path, images, labels, labelRegex, valueColumns, strict, preview };
        c.SetAction(r => Data(
            new DataSpec
            {
                Format = r.Get(format),
                Paths = r.GetValue(format) == "jsonl" ? CliArgs.List(r.Get(path)) : [r.Get(path)],
                Images = r.GetValue(images),
                Labels = r.GetValue(labels),
                LabelRegex = r.GetValue(labelRegex),
                ValueColumns = r.GetValue(valueColumns) is { } v ? CliArgs.List(v) : [],
                Strict = r.GetValue(strict),
            },
            r.GetValue(preview)));
        return c;
    }

    /// <summary>The options of train and lr-find, and how to read them.</summary>
    private sealed class TrainOptionSet
    {
        public DataOptionSet DataOptions { get; } = new();
        public Option<string> Out { get; } = Text("--out", "Run folder: checkpoint/, metrics.jsonl, losses.png, results.png, model.onnx.");
        public Option<string> Arch { get; } = Text("--arch", $"Backbone: {string.Join(", ", BackboneRegistry.Names)} (default blazeface).");
        public Option<string> Heads { get; } = Text("--heads", $"Comma-separated heads: {string.Join(", ", ModelConfig.HeadKinds)} (default center).");
        public Option<int> Epochs { get; } = Int("--epochs", "Epochs with every layer training.", 5, 0, 10_000);
        public Option<int> FreezeEpochs { get; } = Int("--freeze-epochs", "Epochs with the backbone frozen first.", 1, 0, 10_000);
        public Option<double> Lr { get; } = Number("--lr", "Base learning rate.", 2e-3, 1e-9, 10);
        public Option<double> LrMult { get; } = Number("--lr-mult", "How much slower the first layers learn than the heads.", 100, 1, 1e6);
        public Option<double> Wd { get; } = Number("--wd", "AdamW weight decay.", 0.01, 0, 1);
        public Option<int> Batch { get; } = Int("--batch", "Batch size.", 32, 1, 4096);
        public Option<int> Size { get; } = Int("--size", "Square input size (0: the backbone's default).", 0, 0, 1024);
        public Option<string> Weights { get; } = Text("--weights", "Pretrained backbone weights, or 'none' (default: BlazeFace's for blazeface).");
        public Option<string> LossWeights { get; } = Text("--loss-weights", "Loss weight per head kind, e.g. center=1,box=10.");
        public Option<int> Patience { get; } = Int("--patience", "Stop after this many epochs without a better validation loss (0: never).", 0, 0);
        public Option<int> Seed { get; } = Int("--seed", "Random seed.", 0);
        public Option<int> Threads { get; } = Int("--threads", "Threads for TorchSharp.", Environment.ProcessorCount, 1, 256);
        public Option<int> MaxBatches { get; } = Int("--max-batches", "Training batches per epoch at most (0: all).", 0, 0);
        public Option<string> Export { get; } = Text("--export", "Where to write the ONNX model (default: RUN_DIR/model.onnx).");
        public Option<bool> Resume { get; } = Flag("--resume", "Continue a stopped run from its last checkpoint.");
        public Option<bool> NoAugment { get; } = Flag("--no-augment", "Train without augmentation.");
        public Option<int> MaskStride { get; } = Int("--mask-stride", "Mask head: the finest feature stride it decodes to, then bilinear to the input (0: the backbone's finest; 4 is much cheaper on blazeface).", 0, 0, 64);
        public Option<int> MaskWidth { get; } = Int("--mask-width", "Mask head: channels of its decoder.", 32, 1, 1024);
        public Option<string> PointHead { get; } = Text("--point-head", "center and keypoints heads: regress (fully connected on the deepest map) or heatmap (soft-argmax over heat maps at stride 8). Default regress.");
        public Option<string> PoseFrame { get; } = Text("--pose-frame", "pose head: ray (default: the rotation relative to the ray through the head centre, what a crop around the head shows; the runtime turns it into the camera's) or camera (in the camera's axes, as models before 2026-12-03).");
        public Option<string> ValueHead { get; } = Text("--value-head", "value head: pooled (fastai's pooled head on the deepest map) or density (a per-pixel density map from a U-Net decoder of --mask-width channels, summed: for counting small objects). Default pooled.");
        public Option<bool> MultiLabel { get; } = Flag("--multi-label", "The class head is multi-label: a sigmoid per class and binary cross-entropy (default: when some item carries several labels).");
        public Option<bool> SingleLabel { get; } = Flag("--single-label", "The class head is single-label (softmax), even if items carry several labels.");
        public Option<double> Threshold { get; } = Number("--threshold", "Multi-label: the probability above which a label counts as predicted (accuracy_multi, F1).", 0.5, 1e-6, 1 - 1e-6);
        public Option<string> YRange { get; } = Text("--y-range", "center, keypoints and value heads: the output range LOW,HIGH (fastai's y_range; a sigmoid squashes into it).");
        public Option<string> Augment { get; } = Text("--augment", "Augmentation: default, none, no-crop (flips and rotation only: no crop, zoom or shift, which would cut objects off and change what is counted), or flip (mirror images only).");

        public void AddTo(Command c)
        {
            DataOptions.AddTo(c);
            foreach (Option o in new Option[] { Out, Arch, Heads, Epochs, FreezeEpochs, Lr, LrMult, Wd, Batch, Size, Weights, LossWeights, Patience, Seed, Threads, MaxBatches, Export, Resume, NoAugment, Augment, MaskStride, MaskWidth, PointHead, PoseFrame, ValueHead, MultiLabel, SingleLabel, Threshold, YRange })
            {
                c.Options.Add(o);
            }
        }

        public TrainRequest Read(ParseResult r, bool outRequired) => new()
        {
            Data = DataOptions.Read(r, r.GetValue(Seed)),
            MultiLabel = r.GetValue(MultiLabel) && r.GetValue(SingleLabel)
                ? throw new ArgumentException("options --multi-label and --single-label: give one")
                : r.GetValue(MultiLabel) ? true : r.GetValue(SingleLabel) ? false : null,
            YRange = r.GetValue(YRange) is { } y ? RangeOf(y) : null,
            Arch = r.GetValue(Arch) ?? "blazeface",
            Heads = CliArgs.List(r.GetValue(Heads) ?? "center"),
            Size = r.GetValue(Size),
            Weights = r.GetValue(Weights),
            Out = r.GetValue(Out) ?? (outRequired ? throw new ArgumentException("option --out is required") : "lr-find"),
            Export = r.GetValue(Export),
            Resume = r.GetValue(Resume),
            MaskStride = r.GetValue(MaskStride) is > 0 and var ms ? ms : null,
            MaskWidth = r.GetValue(MaskWidth),
            PointLocator = r.GetValue(PointHead) is { } ph
                ? ph is "regress" or "heatmap" ? ph : throw new ArgumentException($"option --point-head: '{ph}' is not regress or heatmap")
                : null,
            PoseFrame = r.GetValue(PoseFrame) is { } pf
                ? pf is "ray" or "camera" ? pf : throw new ArgumentException($"option --pose-frame: '{pf}' is not ray or camera")
                : null,
            ValueLocator = r.GetValue(ValueHead) is { } vh
                ? vh is "pooled" or "density" ? vh : throw new ArgumentException($"option --value-head: '{vh}' is not pooled or density")
                : null,
            Options = new TrainOptions
            {
                Epochs = r.GetValue(Epochs),
                FreezeEpochs = r.GetValue(FreezeEpochs),
                BatchSize = r.GetValue(Batch),
                Lr = r.GetValue(Lr),
                LrMult = r.GetValue(LrMult),
                WeightDecay = r.GetValue(Wd),
                Patience = r.GetValue(Patience),
                Seed = r.GetValue(Seed),
                Threads = r.GetValue(Threads),
                MaxBatches = r.GetValue(MaxBatches),
                LossWeights = r.GetValue(LossWeights) is { } w ? WeightsOf(w) : [],
                Augment = AugmentOf(r.GetValue(NoAugment) ? "none" : r.GetValue(Augment) ?? "default"),
                Threshold = r.GetValue(Threshold),
            },
        };
    }

    private static Command TrainCommand()
    {
        var set = new TrainOptionSet();
        var c = new Command("train",
            "Fine-tunes the fastai way (frozen epochs, then all layers with discriminative rates, one-cycle), checkpoints every epoch, " +
            "writes metrics.jsonl, losses.png, results.png and the ONNX model. --resume continues a stopped run.");
        set.AddTo(c);
        c.SetAction(r => TrainRun.Run(set.Read(r, outRequired: true), Console.Out));
        return c;
    }

    private static Command LrFindCommand()
    {
        var set = new TrainOptionSet();
        var plot = Text("--plot", "PNG to draw the loss against the learning rate into (default lr-find.png).");
        var c = new Command("lr-find", "Learning-rate finder: exponential sweep, smoothed loss, suggested rate, plot.") { plot };
        set.AddTo(c);
        c.SetAction(r => LrFind(set.Read(r, outRequired: false), r.GetValue(plot) ?? "lr-find.png"));
        return c;
    }

    private static Command EvalCommand()
    {
        var model = Text("--model", "An ONNX model exported by headtracker-train.", required: true);
        var dataOptions = new DataOptionSet();
        var split = Text("--split", "all, train or valid (default all): the split train made of the same data and options.");
        var json = Text("--json", "Also write the metrics to this JSON file.");
        var batch = Int("--batch", "Batch size.", 32, 1, 4096);
        var threads = Int("--threads", "ONNX Runtime threads.", Environment.ProcessorCount, 1, 256);
        var seed = Int("--seed", "The seed train was given (it picks a random split).", 0);
        var threshold = Number("--threshold", "Multi-label: the probability above which a label counts as predicted.", 0.5, 1e-6, 1 - 1e-6);
        var by = Text("--by", "Also break the metrics down by: yaw (|yaw| 0-30, 30-60, 60+ degrees) or face (face box width 0-30%, 30-45%, 45%+ of the image).");
        var c = new Command("eval", "Metrics of an exported model in ONNX Runtime, inputs prepared from its manifest.") { model, split, json, batch, threads, seed, threshold, by };
        dataOptions.AddTo(c);
        c.SetAction(r => Eval(r.Get(model), dataOptions.Read(r, r.GetValue(seed)), r.GetValue(split) ?? "all", r.GetValue(json), r.GetValue(batch), r.GetValue(threads), r.GetValue(threshold), r.GetValue(by)));
        return c;
    }

    private static int Init(string backbone, string[] heads, string output, int size, string? weights, string[]? classes, bool multiLabel, string name, int seed, int? maskStride, int maskWidth, string? pointHead)
    {
        if (!BackboneRegistry.Names.Contains(backbone))
        {
            throw new ArgumentException($"option --backbone: '{backbone}' is not one of: {string.Join(", ", BackboneRegistry.Names)}");
        }

        var config = new ModelConfig
        {
            Name = name,
            Backbone = backbone,
            InputSize = size,
            Heads = [.. heads.Select(h => HeadConfig.Of(h, classes, multiLabel, maskStride, maskWidth, pointHead))],
        };
        config.Validate("options --heads/--classes");
        TorchSharp.torch.manual_seed(seed);
        using var net = new MultiHeadNet(config);
        if (weights != null)
        {
            ImportReport report = PretrainedBackbone.Load(net, weights);
            Console.WriteLine($"Backbone weights from {weights}: {report}");
        }

        Checkpoint.Save(net, output);
        long parameters = net.parameters().Sum(p => p.numel());
        Console.WriteLine($"Wrote {Path.GetFullPath(output)}: {config.Backbone} {net.Backbone.Preprocessing.Height}x{net.Backbone.Preprocessing.Width}, heads {string.Join(", ", heads)}, {parameters:N0} parameters");
        return 0;
    }

    private static int Export(string checkpoint, string output, bool foldBn)
    {
        using MultiHeadNet net = Checkpoint.Load(checkpoint);
        net.eval();
        OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions { FoldBatchNorm = foldBn }), output);
        Console.WriteLine($"Wrote {Path.GetFullPath(output)} ({new FileInfo(output).Length:N0} bytes{(foldBn ? ", BatchNorm folded" : "")})");
        return 0;
    }

    private static int Synth(SynthOptions options, string output, int count, int threads, string? preview, SynthCommand.Sources sources, bool parts)
    {
        HeadSynthesizer synth = SynthCommand.Create(options, sources, Console.Out);
        if (parts)
        {
            SynthCommand.WriteParts(synth, output, count, threads, Console.Out);
        }
        else
        {
            SynthCommand.Write(synth, output, count, threads, Console.Out);
        }

        if (preview != null)
        {
            var samples = Enumerable.Range(0, Math.Min(count, 24)).Select(i => synth.Generate(i)).ToList();
            try
            {
                ContactSheet.Write(preview, [.. samples.Select(s => (s.Image, (Mat?)(parts ? s.Parts : s.Mask), parts ? s.Label with { Keypoints = null, Box = null, Center = null } : s.Label))], maskCodes: parts ? HeadSynthesizer.PartCodes.Length : 0);
            }
            finally
            {
                samples.ForEach(s => s.Dispose());
            }

            Console.WriteLine($"Preview: {Path.GetFullPath(preview)}");
        }

        return 0;
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
            PreviewLabels(output, preview);
        }

        return 0;
    }

    /// <summary>Draws the first 24 records of a folder's labels.jsonl over their images into a PNG.</summary>
    private static void PreviewLabels(string folder, string png)
    {
        var labels = LabelsFile.Read(Path.Combine(folder, LabelsFile.FileName), new SkipReport()).Take(24).ToList();
        var pictures = labels.Select(l => Cv2.ImRead(Path.Combine(folder, l.Image))).ToList();
        try
        {
            ContactSheet.Write(png, [.. labels.Select((l, i) => (pictures[i], (Mat?)null, l))]);
        }
        finally
        {
            pictures.ForEach(p => p.Dispose());
        }

        Console.WriteLine($"Preview: {Path.GetFullPath(png)}");
    }

    private static int Data(DataSpec spec, string? preview)
    {
        Dataset data = spec.Load();
        Console.WriteLine(data);
        foreach (string skip in data.Skipped.First)
        {
            Console.WriteLine($"  skipped: {skip}");
        }

        if (preview != null)
        {
            var picked = data.Items.Take(24).ToList();
            var pictures = picked.Select(i => i.Load()).ToList();
            var masks = picked.Select(i => i.Label.Mask is { } m ? Cv2.ImRead(m, ImreadModes.Grayscale) : null).ToList();
            try
            {
                ContactSheet.Write(preview, [.. picked.Select((item, i) => (pictures[i], masks[i] is { } m && !m.Empty() ? m : null, item.Label))], maskCodes: data.MaskCodes.Count);
            }
            finally
            {
                pictures.ForEach(p => p.Dispose());
                masks.ForEach(m => m?.Dispose());
            }

            Console.WriteLine($"Preview: {Path.GetFullPath(preview)}");
        }

        return 0;
    }

    private static int LrFind(TrainRequest r, string plot)
    {
        (Dataset all, List<DataItem> train, List<DataItem> valid) = TrainRun.LoadData(r, Console.Out);
        ModelConfig config = TrainRun.Configure(r, all, train, Console.Out);
        string[] classes = config.Heads.FirstOrDefault(h => h.Kind == OutputKinds.Class)?.ClassNames ?? [];
        TorchSharp.torch.manual_seed(r.Options.Seed);
        using var model = new MultiHeadNet(config);
        if (r.Weights != "none" && (r.Weights != null || r.Arch == "blazeface"))
        {
            PretrainedBackbone.Load(model, r.Weights ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")));
        }

        var pre = model.Backbone.Preprocessing;
        using var learner = new Learner(model, new Batcher(train, config, pre, classes), new Batcher(valid, config, pre, classes), r.Options);
        (List<(double Lr, double Loss)> curve, double suggestion) = learner.LrFind();
        LinePlot.Write(plot, $"lr-find: suggested {suggestion:G2}", "learning rate (log)", "smoothed loss", [new("loss", new Scalar(200, 80, 0), curve)], logX: true, markX: suggestion);
        Console.WriteLine($"lr-find: {curve.Count} steps from {curve[0].Lr:G2} to {curve[^1].Lr:G2}; suggested learning rate {suggestion:G2} (steepest descent); plot {Path.GetFullPath(plot)}");
        return 0;
    }

    private static Dictionary<string, double> WeightsOf(string text) =>
        CliArgs.List(text).Select(p => p.Split('=')).ToDictionary(
            p => p.Length == 2 && ModelConfig.HeadKinds.Contains(p[0]) ? p[0] : throw new ArgumentException($"option --loss-weights: '{string.Join("=", p)}' is not KIND=WEIGHT with KIND one of {string.Join(", ", ModelConfig.HeadKinds)}"),
            p => double.TryParse(p[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double w) && w >= 0 ? w : throw new ArgumentException($"option --loss-weights: weight '{p[1]}' is not a number"));

    private static int Eval(string model, DataSpec spec, string split, string? json, int batch, int threads, double threshold, string? by)
    {
        if (split is not ("all" or "train" or "valid"))
        {
            throw new ArgumentException($"option --split: '{split}' is not one of: all, train, valid");
        }

        if (by is not (null or "yaw" or "face"))
        {
            throw new ArgumentException($"option --by: '{by}' is not one of: yaw, face");
        }

        List<DataItem> items = SplitItems(spec, split);
        string data = string.Join(",", spec.Paths);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyDictionary<string, double> metrics = Evaluator.Run(model, items, batch, threads, threshold);
        Console.WriteLine($"{model} on {items.Count} {split} items from {data} ({clock.Elapsed.TotalSeconds:F1} s):");
        PrintMetrics(metrics);

        // Per bin: the same metrics on the items whose label falls in it (items without that label are left out).
        var bins = new Dictionary<string, object>();
        if (by != null)
        {
            foreach (IGrouping<string, DataItem> bin in items.Select(i => (Item: i, Bin: Bin(i.Label, by))).Where(p => p.Bin != null)
                .GroupBy(p => p.Bin!, p => p.Item).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                IReadOnlyDictionary<string, double> binMetrics = Evaluator.Run(model, [.. bin], batch, threads, threshold);
                Console.WriteLine($"{by} {bin.Key}: {bin.Count()} items");
                PrintMetrics(binMetrics);
                bins[bin.Key] = new { items = bin.Count(), metrics = binMetrics };
            }
        }

        if (json != null)
        {
            object result = by == null
                ? new { model, data, split, items = items.Count, metrics }
                : new { model, data, split, items = items.Count, metrics, by, bins };
            File.WriteAllText(json, System.Text.Json.JsonSerializer.Serialize(result, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"Wrote {Path.GetFullPath(json)}");
        }

        return 0;
    }

    private static void PrintMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        foreach ((string name, double value) in metrics)
        {
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  {name,-14} {value:G4}"));
        }
    }

    /// <summary>The bin of a label for --by, or null when the label lacks what the bin needs.</summary>
    internal static string? Bin(HeadLabel label, string by) => by switch
    {
        "yaw" when label.Pose is { } p => Math.Abs(p.Yaw) switch { < 30 => "|yaw| 00-30", < 60 => "|yaw| 30-60", _ => "|yaw| 60+" },
        "face" when label.Box is { Length: 4 } b && label.Width > 0 => ((b[2] - b[0]) / label.Width) switch { < 0.3 => "face 00-30%", < 0.45 => "face 30-45%", _ => "face 45%+" },
        _ => null,
    };
}
