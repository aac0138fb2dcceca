using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using HeadTracking.Runtime.Detection;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Teachers;
using OpenCvSharp;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>Builds a <see cref="HeadSynthesizer"/> from the fetched data and writes data sets.</summary>
internal static class SynthWriter
{
    /// <summary>Where the generator's inputs come from; null means the fetched defaults.</summary>
    /// <param name="Unwrap">How face textures are unwrapped from the photos: "dense" (at the dense
    /// teacher's 468 landmarks, <see cref="FaceIdentity.FromPhotos"/>; null means this) or
    /// "keypoints" (the canonical mesh posed on BlazeFace's six keypoints, as before 2026-12-05).</param>
    /// <param name="FaceMesh">The dense teacher's TF.js model (default: the fetched one).</param>
    internal sealed record Sources(string? Faces = null, string? Backgrounds = null, string? Mesh = null, string? Detector = null, string? Unwrap = null, string? FaceMesh = null);

    /// <summary>Background photos: every jpg/png of a folder except ones known to show faces.</summary>
    private static readonly string[] s_notBackgrounds = ["messi5.jpg", "lena.jpg", "lena.png"];

    public static HeadSynthesizer Create(SynthOptions options, Sources sources, TextWriter log)
    {
        string meshPath = sources.Mesh ?? ExternalData.Find(Path.Combine("facemesh", "geometry_pipeline_metadata_landmarks.binarypb"));
        string facesDir = sources.Faces ?? ExternalData.Find("faces");
        string backgroundsDir = sources.Backgrounds ?? ExternalData.Find("opencv-data");
        string detectorPath = sources.Detector ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx"));

        Mesh face = Mesh.LoadCanonicalFace(meshPath);
        string unwrap = sources.Unwrap ?? "dense";
        if (unwrap is not ("keypoints" or "dense"))
        {
            throw new ArgumentException($"option --unwrap: '{unwrap}' is not keypoints or dense");
        }

        if (unwrap == "dense" && face.VertexCount != FaceMeshTeacher.LandmarkCount)
        {
            throw new InvalidDataException($"{meshPath}: --unwrap dense needs MediaPipe's canonical face mesh ({FaceMeshTeacher.LandmarkCount} vertices, one per Face Mesh landmark); this mesh has {face.VertexCount}");
        }

        string[] photos = Images(facesDir);
        using var detector = new BlazeFaceDetector(detectorPath);

        List<FaceIdentity> identities;
        int skipped;
        using (FaceMeshTeacher? teacher = unwrap == "dense" ? new FaceMeshTeacher(sources.FaceMesh ?? ExternalData.Find(Path.Combine("face-landmarks", "facemesh.json")), meshPath) : null)
        {
            identities = FaceIdentity.FromPhotos(photos, face, detector, teacher, out skipped);
        }

        var backgrounds = new List<Mat>();
        var found = new FaceDetections();
        int withFaces = 0;
        try
        {
            foreach (string file in Images(backgroundsDir).Where(f => !s_notBackgrounds.Contains(Path.GetFileName(f))))
            {
                Mat bg = Cv2.ImRead(file, ImreadModes.Color);
                if (bg.Empty() || Math.Min(bg.Width, bg.Height) < 64)
                {
                    bg.Dispose();
                    continue;
                }

                // A face in the background would be a head without labels: leave such photos out.
                detector.Detect(bg, found);
                if (found.Count > 0)
                {
                    withFaces++;
                    bg.Dispose();
                    continue;
                }

                backgrounds.Add(bg);
            }

            var synth = new HeadSynthesizer(face, identities, backgrounds, options);
            log.WriteLine($"Generator: {identities.Count} face identities from {photos.Length} photos in {facesDir} " +
                $"({synth.TrainIdentities} train, {synth.ValidIdentities} held out: {string.Join(", ", options.ValidPhotos)}; textures unwrapped {(unwrap == "dense" ? $"at the dense teacher's landmarks, {skipped} faces it could not label left out" : "by the mesh posed on BlazeFace's keypoints")}), {backgrounds.Count} backgrounds from {backgroundsDir} ({withFaces} left out: BlazeFace finds faces in them)");
            return synth;
        }
        finally
        {
            foreach (Mat bg in backgrounds)
            {
                bg.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="count"/> samples into <paramref name="outDir"/>: NNNNNN.jpg,
    /// NNNNNN_mask.png and labels.jsonl. Built in a temporary folder and renamed into place.
    /// Returns images per second.
    /// </summary>
    public static double Write(HeadSynthesizer synth, string outDir, int count, int threads, TextWriter log) =>
        AtomicDirectory.Write(outDir, temp =>
        {
            var labels = new HeadLabel[count];
            var clock = Stopwatch.StartNew();
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                using SynthSample sample = synth.Generate(i);
                File.WriteAllBytes(Path.Combine(temp, sample.Label.Image), sample.Jpeg);
                Cv2.ImWrite(Path.Combine(temp, sample.Label.Mask!), sample.Mask);
                labels[i] = sample.Label;
            });
            double rate = count / clock.Elapsed.TotalSeconds;
            LabelsFile.Write(Path.Combine(temp, LabelsFile.FileName), labels);
            log.WriteLine($"Wrote {count} images with labels to {Path.GetFullPath(outDir)} in {clock.Elapsed.TotalSeconds:F1} s ({rate:F0} images/s on {threads} threads); " +
                $"{labels.Count(l => l.Split == "valid")} from held-out identities");
            return rate;
        });

    /// <summary>
    /// Writes <paramref name="count"/> samples as a segmentation data set in CamVid's layout:
    /// images/NNNNNN.jpg, labels/NNNNNN_P.png (the part of every pixel), codes.txt naming the
    /// parts, valid.txt listing the held-out identities' images. Atomic, like <see cref="Write"/>.
    /// </summary>
    public static void WriteParts(HeadSynthesizer synth, string outDir, int count, int threads, TextWriter log) =>
        AtomicDirectory.Write(outDir, temp =>
        {
            string images = Path.Combine(temp, "images"), labels = Path.Combine(temp, "labels");
            Directory.CreateDirectory(images);
            Directory.CreateDirectory(labels);
            var valid = new bool[count];
            var clock = Stopwatch.StartNew();
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                using SynthSample sample = synth.Generate(i);
                File.WriteAllBytes(Path.Combine(images, sample.Label.Image), sample.Jpeg);
                Cv2.ImWrite(Path.Combine(labels, Path.GetFileNameWithoutExtension(sample.Label.Image) + "_P.png"), sample.Parts);
                valid[i] = sample.Label.Split == "valid";
            });
            File.WriteAllLines(Path.Combine(temp, "codes.txt"), HeadSynthesizer.PartCodes);
            File.WriteAllLines(Path.Combine(temp, "valid.txt"), Enumerable.Range(0, count).Where(i => valid[i]).Select(i => $"{i:D6}.jpg"));
            log.WriteLine($"Wrote {count} images with part labels ({string.Join(", ", HeadSynthesizer.PartCodes)}) to {Path.GetFullPath(outDir)} in {clock.Elapsed.TotalSeconds:F1} s, CamVid layout; {valid.Count(v => v)} from held-out identities (valid.txt)");
            return 0;
        });

    private static string[] Images(string dir)
    {
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"image folder not found: {dir}");
        }

        return [.. Directory.GetFiles(dir).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal)];
    }
}
